import { getEventListeners } from 'node:events'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net'
import { inspect } from 'node:util'
import { oauth2Interceptor } from '@tokenwell/axios'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import { oauth2 } from '@tokenwell/undici'
import axios from 'axios'
import fc from 'fast-check'
import got from 'got'
import ky from 'ky'
import { Agent as UndiciAgent, request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { harnesses } from './support/adapters.js'
import { fixedTokenProvider } from './support/recorder.js'

// Rule 5 for client errors that pass through an adapter: a protected API that answers 401 and
// 500 with the request's Authorization header echoed back (in its body and in a header, whole,
// encoded, or cut), and every way a caller can print the error the client rejects with.
const PIECE = 12
type Echo = 'raw' | 'percent' | 'json-slash' | 'base64' | 'cut' | 'tail'
const ECHOES: Echo[] = ['raw', 'percent', 'json-slash', 'base64', 'cut', 'tail']
const b64 = (v: string) => Buffer.from(v).toString('base64')
const echoOf = (token: string, echo: Echo): string => {
  switch (echo) {
    case 'raw':
      return token
    case 'percent':
      return encodeURIComponent(token)
    case 'json-slash':
      return JSON.stringify(token).slice(1, -1).replaceAll('/', '\\/') // PHP's json_encode
    case 'base64':
      return b64(token)
    case 'cut':
      return `${token.slice(0, 20)}...` // a server that shortens what it logs
    case 'tail':
      return `...${token.slice(-24)}` // or keeps its end (a JWT's signature)
  }
}
/** The token as is, percent-encoded, with `\/`, and base64 at each offset; their 12-character pieces. */
function leaks(text: string, token: string): string[] {
  const forms = [
    token,
    encodeURIComponent(token),
    token.replaceAll('/', '\\/'),
    b64(token),
    b64(`\0${token}`).slice(4),
    b64(`\0\0${token}`).slice(4),
  ]
  const found = new Set<string>()
  for (const form of forms)
    for (let i = 0; i + PIECE <= form.length; i++) {
      const piece = form.slice(i, i + PIECE)
      if (text.includes(piece)) found.add(piece)
    }
  return [...found]
}
const json = (value: unknown) => {
  const seen = new WeakSet()
  try {
    return JSON.stringify(value, (_, v) => {
      if (typeof v === 'bigint') return String(v)
      if (v && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]'
        seen.add(v)
      }
      return v
    })
  } catch (error) {
    return String(error)
  }
}
function printed(error: unknown): string {
  const plain = (error as { toJSON?: () => unknown })?.toJSON?.()
  const chain: unknown[] = []
  for (let e: unknown = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e)
  return [
    inspect(error, { depth: Number.POSITIVE_INFINITY }),
    inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    json(error),
    json(plain),
    ...chain.flatMap((e) => [String(e), (e as Error).message, (e as Error).stack ?? '']),
  ].join('\n')
}

// access tokens as base64 and JWTs carry them: `+`, `/`, `=`, `-`, `_`, `.`, `~`
const tokenArb = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_.~'),
  minLength: 24,
  maxLength: 48,
})

describe('adapters against an API that echoes the access token in its error answers', () => {
  let server: Server
  let baseUrl: string
  let echo: Echo = 'raw'
  let status = 500
  /** Items in the error body, each echoing the token: a JSON body can hold more objects than a client error's machinery. */
  let items = 0
  /** Whether the API echoes the request's DPoP proof instead of its token. */
  let echoProof = false
  const proofs: string[] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      if (req.headers.dpop) proofs.push(String(req.headers.dpop))
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '')
      const echoed = echoOf(echoProof ? String(req.headers.dpop) : token, echo)
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-echo': echoed,
        'www-authenticate': `Bearer error="invalid_token", error_description="bad ${echoed}"`,
      })
      const list = Array.from({ length: items }, (_, i) => ({ i, seen: echoed }))
      res.end(JSON.stringify({ error: 'invalid_token', detail: `token ${echoed} refused`, list }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  // fetch answers HTTP errors as responses; undici's responseError() interceptor, composed
  // outside oauth2() as it must be for a 401 to reach it, builds its error from the answer after
  // the adapter handed it on: nothing of the adapter's sees that error (see the undici README)
  it.each(harnesses.filter((h) => h.name !== 'fetch' && h.name !== 'undici'))(
    '$name: 0 pieces of the access token in the error, for every echo',
    async (harness) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(tokenArb, { minLength: 2, maxLength: 2 }),
          fc.constantFrom(...ECHOES),
          fc.constantFrom(401, 500),
          async (tokens, e, s) => {
            ;[echo, status] = [e, s]
            let issued = 0
            const provider = createTokenProvider({
              tokenEndpoint: 'http://127.0.0.1:1/token',
              clientId: 'c',
              clientSecret: 's',
              retry: false,
              failureCooldown: 0,
              fetch: async () =>
                Response.json({ access_token: tokens[issued++ % 2], token_type: 'Bearer', expires_in: 300 }),
            })
            const client = harness.create(provider, baseUrl)
            try {
              const { error } = await client.attempt({ target: '/api', httpErrors: true })
              expect(error).toBeDefined()
              const text = printed(error)
              const found = tokens.slice(0, issued).flatMap((token) => leaks(text, token))
              expect(found, `${e} ${s}`).toEqual([])
            } finally {
              client.close()
              await provider.close()
            }
          },
        ),
        { numRuns: 40 },
      )
    },
    60_000,
  )

  // a client that parses the body: axios by default, got with `responseType: 'json'`
  it.each([
    [
      'axios',
      (provider: TokenProvider) => {
        const instance = axios.create({ baseURL: baseUrl })
        oauth2Interceptor(instance, provider)
        return instance.get('/api')
      },
    ],
    [
      'got',
      (provider: TokenProvider) =>
        got.extend(oauth2Hooks(provider), { prefixUrl: baseUrl, retry: { limit: 0 } })('api', {
          responseType: 'json',
        }),
    ],
  ] as const)(
    '%s: 0 pieces of the access token in an error whose parsed body holds 30,000 objects echoing it',
    async (_, request) => {
      ;[echo, status, items] = ['raw', 500, 30_000]
      const token = 'at-bulk-echo-0123456789abcdef'
      const provider = fixedTokenProvider(token)
      try {
        const error = await request(provider).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toHaveProperty('response')
        expect(leaks(printed(error), token)).toEqual([])
        // every item, not only those inspect prints
        expect(leaks(json((error as { response: unknown }).response), token)).toEqual([])
      } finally {
        items = 0
        await provider.close()
      }
    },
    60_000,
  )

  // undici (as above): the error holds what the API answered, never what was sent; it echoes the token
  it.each(
    harnesses
      .filter((h) => h.name !== 'fetch')
      .flatMap((harness) => ECHOES.map((e) => ({ name: harness.name, harness, e })))
      .filter(({ name, e }) => name !== 'undici' || e === 'raw'),
  )(
    '$name: 0 pieces of the DPoP proof in the error of a DPoP request that failed, the API echoing it $e',
    async ({ harness, e }) => {
      ;[echo, status, echoProof] = [e, 500, harness.name !== 'undici']
      proofs.length = 0
      const provider = createTokenProvider({
        tokenEndpoint: 'http://127.0.0.1:1/token',
        clientId: 'c',
        clientSecret: 's',
        retry: false,
        dpop: createDpop(),
        fetch: async () =>
          Response.json({ access_token: 'at-dpop-0123456789', token_type: 'DPoP', expires_in: 300 }),
      })
      const client = harness.create(provider, baseUrl)
      try {
        const { error } = await client.attempt({ target: '/api', httpErrors: true })
        expect(error).toBeDefined()
        expect(proofs).toHaveLength(1)
        const text = printed(error)
        // the proof as sent, and its signature (what makes it a proof) in every form, or a piece of it
        expect(text).not.toContain(proofs[0]!)
        expect(leaks(text, proofs[0]!.split('.')[2]!)).toEqual([])
      } finally {
        echoProof = false
        client.close()
        await provider.close()
      }
    },
  )
})

// A scope is no secret: a step-up's goes into the `token` event, and from there into telemetry
// (`oauth.scope` of @tokenwell/opentelemetry's spans and metrics), and to the token endpoint
describe('adapters against an API that echoes the access token into a step-up challenge’s scope', () => {
  let server: Server
  let baseUrl: string
  let echo: Echo = 'raw'
  const TOKEN = 'at-scope+echo/0123456789abcdef='
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '')
      if (token !== TOKEN) return res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      const scope = `admin ${echoOf(token, echo)}`
      res.writeHead(403, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` }).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it.each(harnesses.flatMap((harness) => ECHOES.map((e) => ({ name: harness.name, harness, e }))))(
    '$name, $e: no step-up, 1 token request, 0 pieces of the token in events or token requests',
    async ({ harness, e }) => {
      echo = e
      const sent: string[] = []
      const provider = createTokenProvider({
        tokenEndpoint: 'http://127.0.0.1:1/token',
        clientId: 'c',
        clientSecret: 's',
        retry: false,
        fetch: async (request) => {
          sent.push(await request.text())
          return Response.json({ access_token: TOKEN, token_type: 'Bearer', expires_in: 300 })
        },
      })
      const events: unknown[] = []
      for (const name of ['token', 'token-error', 'refresh-failed', 'invalidated'] as const)
        provider.on(name, (event) => events.push(event))
      const client = harness.create(provider, baseUrl, { stepUp: true })
      try {
        const { status } = await client.attempt({ target: '/api' })
        expect(status).toBe(403) // the challenge goes back to the caller, unanswered
        expect(sent).toEqual(['grant_type=client_credentials'])
        expect(leaks(`${inspect(events, { depth: 10 })}\n${json(events)}`, TOKEN)).toEqual([])
      } finally {
        client.close()
        await provider.close()
      }
    },
  )
})

// An abort or a timeout: the error some clients make then holds the request, and reaches the
// caller through no hook of the adapter (ky's TimeoutError, got's AbortError for a `signal`)
describe('adapters: the error of a request aborted or timed out while the API is still answering', () => {
  let server: Server
  let baseUrl: string
  const TOKEN = 'at-aborted+request/0123456789abcdef='
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      if (req.url?.endsWith('/warm')) res.end('{}')
      else setTimeout(() => res.end('{}'), 1_000) // answers after every timeout below
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const providerOf = () => fixedTokenProvider(TOKEN)
  const aborted = () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    return controller.signal
  }
  type Send = (provider: TokenProvider, path: string) => Promise<unknown>
  const gotOf = (provider: TokenProvider) =>
    got.extend(oauth2Hooks(provider), { prefixUrl: baseUrl, retry: { limit: 0 } })
  const kyOf = (provider: TokenProvider, options: Parameters<typeof kyHooks>[1] = {}) =>
    ky.create({ prefixUrl: baseUrl, retry: 0, ...kyHooks(provider, options) })
  const axiosOf = (provider: TokenProvider) => {
    const instance = axios.create({ baseURL: baseUrl })
    oauth2Interceptor(instance, provider)
    return instance
  }
  const undiciOf = (provider: TokenProvider) =>
    new UndiciAgent().compose(oauth2(provider, { match: baseUrl }))
  it.each<[string, Send]>([
    ['ky, its timeout option', (p, path) => kyOf(p)(path, { timeout: 50 }).text()],
    ['ky, a signal', (p, path) => kyOf(p)(path, { signal: aborted() }).text()],
    [
      'ky with a fetch of the caller’s, its timeout option',
      (p, path) => kyOf(p, { fetch: (r, i) => fetch(r, i) })(path, { timeout: 50 }).text(),
    ],
    [
      'ky with a fetch of the caller’s, its timeout option, the timeout retried (retryOnTimeout)',
      (p, path) =>
        kyOf(p, { fetch: (r, i) => fetch(r, i) })(path, {
          timeout: 50,
          retry: { limit: 1, retryOnTimeout: true, delay: () => 0 },
        }).text(),
    ],
    ['got, a signal', (p, path) => gotOf(p)(path, { signal: aborted() })],
    ['got, AbortSignal.timeout', (p, path) => gotOf(p)(path, { signal: AbortSignal.timeout(50) })],
    ['got, its timeout option', (p, path) => gotOf(p)(path, { timeout: { request: 50 } })],
    ['axios, its timeout option', (p, path) => axiosOf(p).get(path, { timeout: 50 })],
    ['axios, a signal', (p, path) => axiosOf(p).get(path, { signal: aborted() })],
    [
      'fetch, a signal',
      (p, path) => withOAuth2(p, { match: baseUrl })(`${baseUrl}/${path}`, { signal: aborted() }),
    ],
    [
      'undici, a signal',
      (p, path) => undiciRequest(`${baseUrl}/${path}`, { dispatcher: undiciOf(p), signal: aborted() }),
    ],
  ])('%s: the error holds 0 pieces of the token', async (_, send) => {
    const provider = providerOf()
    try {
      await send(provider, 'warm') // the token is cached: the slow request is sent at once
      const error = await send(provider, 'slow').then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeDefined()
      expect(leaks(printed(error), TOKEN)).toEqual([])
    } finally {
      await provider.close()
    }
  })

  it('got: a signal given to many requests holds no listener of the adapter once they ended', async () => {
    const provider = providerOf()
    const signal = new AbortController().signal
    const api = gotOf(provider)
    try {
      for (let i = 0; i < 20; i++) await api('warm', { signal })
      await api('slow', { signal: AbortSignal.timeout(50) }).catch(() => {})
      expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    } finally {
      await provider.close()
    }
  })
})

// A body is parsed into objects (axios, got with responseType json): an API that splits the token
// into strings shorter than a piece, each in a field or an element of its own
describe('adapters against an API that echoes the access token split across the strings of a JSON body', () => {
  let server: Server
  let baseUrl: string
  let shape: 'array' | 'fields' = 'array'
  const TOKEN = 'at-split+echo/0123456789abcdefXYZ='
  const chunks = (token: string) => token.match(/.{1,10}/g) ?? []
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '')
      const parts = chunks(token)
      const body =
        shape === 'array'
          ? { error: 'invalid_token', parts }
          : Object.fromEntries(parts.map((part, i) => [`p${i}`, part]))
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const clients = {
    axios: (provider: TokenProvider) => {
      const instance = axios.create({ baseURL: baseUrl })
      oauth2Interceptor(instance, provider)
      return instance.get('/api')
    },
    got: (provider: TokenProvider) =>
      got.extend(oauth2Hooks(provider), { prefixUrl: baseUrl, retry: { limit: 0 } })('api', {
        responseType: 'json',
      }),
  }
  it.each(
    (['axios', 'got'] as const).flatMap((name) =>
      (['array', 'fields'] as const).map((s) => [name, s] as const),
    ),
  )('%s, the token in 10-character strings (%s of the body): none of them printed', async (name, s) => {
    shape = s
    const provider = fixedTokenProvider(TOKEN)
    try {
      const error = await clients[name](provider).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toHaveProperty('response')
      const text = `${printed(error)}\n${json((error as { response: unknown }).response)}`
      expect(chunks(TOKEN).filter((chunk) => text.includes(chunk))).toEqual([])
    } finally {
      await provider.close()
    }
  })
})

// An API whose answer is not HTTP, with the request's Authorization in its head: the client's
// parser fails, and its error (Node's fetch: `TypeError: fetch failed`, its cause an
// `HTTPParserError`) holds the bytes it could not parse, the token among them. (A body that fails
// later, once the response was handed back, is the caller's to read, as any body is.)
describe('adapters against an API that echoes the access token in an answer that is not HTTP', () => {
  let server: NetServer
  let baseUrl: string
  let answer: (authorization: string) => string = () => ''
  const TOKEN = 'at-unparsed+echo/0123456789abcdef='
  beforeAll(async () => {
    server = createNetServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', (chunk) => {
        const head = chunk.toString('latin1')
        socket.end(answer(/^authorization: (.*)$/im.exec(head)?.[1]?.trim() ?? ''))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const ANSWERS: Record<string, (authorization: string) => string> = {
    'a header name with a control character': (a) => `HTTP/1.1 200 OK\r\nX-Echo\u0001: ${a}\r\n\r\n`,
    'a status line': (a) => `HTTP/1.1 2${a} OK\r\n\r\n`,
  }
  const sends: Record<string, (provider: TokenProvider) => Promise<unknown>> = {
    fetch: async (p) => (await withOAuth2(p, { match: baseUrl })(`${baseUrl}/api`)).text(),
    ky: (p) =>
      ky
        .create({ prefixUrl: baseUrl, retry: 0, ...kyHooks(p) })('api')
        .text(),
    'ky with a fetch of the caller’s': (p) =>
      ky
        .create({ prefixUrl: baseUrl, retry: 0, ...kyHooks(p, { fetch: (r, i) => fetch(r, i) }) })('api')
        .text(),
  }
  it.each(Object.keys(sends).flatMap((name) => Object.keys(ANSWERS).map((what) => [name, what] as const)))(
    '%s, the token in %s: the error holds 0 pieces of it',
    async (name, what) => {
      answer = ANSWERS[what]!
      const provider = fixedTokenProvider(TOKEN)
      try {
        const error = await sends[name]!(provider).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(TypeError)
        expect(leaks(printed(error), TOKEN)).toEqual([])
      } finally {
        await provider.close()
      }
    },
  )
})
