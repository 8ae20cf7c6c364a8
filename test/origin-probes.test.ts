import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createHttpsServer, Agent as HttpsAgent } from 'node:https'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { oauth2Interceptor } from '@tokenwell/axios'
import type { TokenProvider } from '@tokenwell/core'
import type { AdapterOptions } from '@tokenwell/core/adapter'
import { withOAuth2 } from '@tokenwell/fetch'
import { oauth2Hooks } from '@tokenwell/got'
import { oauth2Hooks as kyHooks } from '@tokenwell/ky'
import { oauth2 } from '@tokenwell/undici'
import axios from 'axios'
import got from 'got'
import ky from 'ky'
import {
  DecoratorHandler,
  type Dispatcher,
  interceptors,
  Agent as UndiciAgent,
  fetch as undiciFetch,
  request as undiciRequest,
} from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { followLikeNodeFetch } from './support/node-fetch-like.js'
import { fixedTokenProvider, issuingProvider } from './support/recorder.js'

// Rule 6 of DESIGN.md probed as a hostile caller or server would: look-alike hosts, URL forms
// the parsers disagree on, base-URL overrides, redirects, the clients' own redirect and retry
// handling. Every host name resolves to loopback (a `lookup` in each client), so the port names
// the server: A is the API the token is for, E a second origin that records all it receives.

/** What a server received. */
interface Seen {
  path: string
  /** Whether it came over TLS. */
  secure: boolean
  host: string | undefined
  authorization: string | undefined
  dpop: string | undefined
  headers: IncomingHttpHeaders
  rawAuthorization: string[]
}

interface Recording {
  port: number
  seen: Seen[]
  /** `/fail?n=K` answers 503 this many more times. */
  failures: number
  close(): Promise<void>
}

/**
 * A loopback server that records every request; `/r?to=URL[&status=N]` redirects there (302 by
 * default), `/page?next=URL` answers a page whose `Link` names the next, `/fail` answers 503 while
 * `failures` lasts, `/401` a Bearer `invalid_token` challenge, the rest 200 JSON.
 */
async function record(tls?: { cert: string; key: string }, host = '127.0.0.1'): Promise<Recording> {
  const recording: Recording = { port: 0, seen: [], failures: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    req.resume()
    const url = new URL(req.url ?? '/', 'http://x')
    const raw: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      if (req.rawHeaders[i]!.toLowerCase() === 'authorization') raw.push(req.rawHeaders[i + 1]!)
    recording.seen.push({
      path: url.pathname,
      secure: 'encrypted' in req.socket,
      host: req.headers.host,
      authorization: req.headers.authorization,
      dpop: typeof req.headers.dpop === 'string' ? req.headers.dpop : undefined,
      headers: req.headers,
      rawAuthorization: raw,
    })
    const to = url.searchParams.get('to')
    const next = url.searchParams.get('next')
    if (url.pathname === '/page') {
      const link = next ? { link: `<${next}>; rel="next"` } : undefined
      res.writeHead(200, { 'content-type': 'application/json', ...link }).end('[1]')
      return
    }
    if (url.pathname === '/r' && to) {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end()
      return
    }
    if (url.pathname === '/401') {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
      return
    }
    if (url.pathname === '/fail' && recording.failures > 0) {
      recording.failures--
      res.writeHead(503).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
  server.keepAliveTimeout = 100
  // with `tls`, https and plain http on the one port: a TLS handshake starts with byte 0x16
  const secure = tls && createHttpsServer(tls, (req, res) => server.emit('request', req, res))
  const front = secure
    ? createNetServer((socket) =>
        socket.once('readable', () => {
          const first = socket.read(1) as Buffer | null
          if (first) socket.unshift(first)
          ;(first?.[0] === 0x16 ? secure : server).emit('connection', socket)
        }),
      )
    : server
  await new Promise<void>((resolve) => front.listen(0, host, resolve))
  recording.port = (front.address() as AddressInfo).port
  recording.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      secure?.closeAllConnections()
      front.close(() => resolve())
    })
  return recording
}

type LookupCallback = (
  error: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void
/** Every host name is loopback: which server answers is the port's business. */
function lookup(_host: string, options: unknown, callback?: LookupCallback): void {
  const done = (typeof options === 'function' ? options : callback) as LookupCallback
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true
  queueMicrotask(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)))
}

type Name = 'axios' | 'got' | 'fetch' | 'undici' | 'ky'
const names: readonly Name[] = ['axios', 'got', 'fetch', 'undici', 'ky']

/** One request as a caller writes it. */
interface Call {
  /** Absolute, or relative to the client's base URL (axios, got, ky; fetch and undici resolve it). */
  target: string
  headers?: Record<string, string>
  /** The request's own base URL (axios `baseURL`, got and ky `prefixUrl`). */
  base?: string
  /** Whether the client follows redirects itself (its default: yes). */
  follow?: boolean
  /** The client's own retries of a 503 (got `retry`, ky `retry`, undici's retry interceptor). */
  retries?: number
}

/** A self-signed certificate for `api.test`, made by openssl. */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-probe-'))
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat(
        ['-subj', '/CN=api.test', '-addext', 'subjectAltName=DNS:api.test', '-keyout', key, '-out', cert],
      ),
      { stdio: 'pipe' },
    )
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

let made: { cert: string; key: string } | undefined
const certificate = () => (made ??= selfSigned())

interface ClientSetup extends AdapterOptions {
  /** The certificate authority to trust for https. */
  ca?: string
  /** The client's base URL; fetch and undici have none and get `match` from it unless given. */
  base: string
  /** fetch and ky: the fetch they wrap follows redirects as node-fetch does (not fetch's rule). */
  nodeFetchRedirects?: boolean
  /** undici: its redirect interceptor composed inside `oauth2()` (before it) instead of outside. */
  redirectInside?: boolean
  /** undici: an interceptor composed between `oauth2()` and its redirect interceptor outside it. */
  between?: 'retry' | 'decorator'
  /** undici: the dispatcher under a fetch (undici's, or Node's global one), which follows each hop as a new request. */
  underFetch?: 'undici' | 'global'
  /** axios: its fetch adapter (on the agent), which follows redirects without telling. */
  axiosFetch?: boolean
}

interface ProbeClient {
  /** What the client answered (status) or the error it rejected with. */
  send(call: Call): Promise<{ status?: number; error?: unknown }>
  close(): void
}

const settle = (promise: Promise<number>) =>
  promise.then(
    (status) => ({ status }),
    (error: unknown) => ({ error }),
  )
const absolute = (target: string) => /^[a-z][a-z\d+\-.]*:/i.test(target)

function createClient(name: Name, provider: TokenProvider, setup: ClientSetup): ProbeClient {
  const {
    base,
    redirectInside,
    between,
    underFetch,
    axiosFetch,
    ca,
    nodeFetchRedirects: _,
    ...options
  } = setup
  const matched: AdapterOptions = { match: new URL(base).origin, ...options }
  const agent = new UndiciAgent({ connect: { lookup, ...(ca && { ca }) } as never })
  const platform = (request: Request, init?: RequestInit) =>
    globalThis.fetch(request, { ...init, dispatcher: agent } as RequestInit)
  const viaAgent = setup.nodeFetchRedirects ? followLikeNodeFetch(platform) : platform
  switch (name) {
    case 'axios': {
      const instance = axios.create({
        baseURL: base,
        lookup,
        validateStatus: () => true,
        ...(ca && { httpsAgent: new HttpsAgent({ ca, lookup: lookup as never }) }),
        ...(axiosFetch && { adapter: 'fetch', env: { fetch: platform } }),
      } as never)
      oauth2Interceptor(instance, provider, options)
      return {
        send: (call) =>
          settle(
            instance
              .request({
                url: call.target,
                ...(call.headers && { headers: call.headers }),
                ...(call.base !== undefined && { baseURL: call.base }),
                ...(call.follow === false && { maxRedirects: 0 }),
              })
              .then((r) => r.status),
          ),
        close: () => void agent.close(),
      }
    }
    case 'got': {
      const client = got.extend(oauth2Hooks(provider, options), {
        prefixUrl: base,
        dnsLookup: lookup as never,
        ...(ca && { https: { certificateAuthority: ca } }),
        throwHttpErrors: false,
        retry: { limit: 0 },
      })
      return {
        send: (call) =>
          settle(
            Promise.resolve()
              .then(() =>
                client(call.target, {
                  ...(call.headers && { headers: call.headers }),
                  ...(call.base !== undefined
                    ? { prefixUrl: call.base }
                    : absolute(call.target) && { prefixUrl: '' }),
                  ...(call.follow === false && { followRedirect: false }),
                  ...(call.retries && {
                    retry: {
                      limit: call.retries,
                      calculateDelay: ({ computedValue }) => (computedValue ? 1 : 0),
                    },
                  }),
                }),
              )
              .then((r) => r.statusCode),
          ),
        close: () => void agent.close(),
      }
    }
    case 'fetch': {
      const authFetch = withOAuth2(provider, { ...matched, fetch: viaAgent as never })
      return {
        send: (call) =>
          settle(
            Promise.resolve()
              .then(() =>
                authFetch(absolute(call.target) ? call.target : new URL(call.target, `${base}/`), {
                  ...(call.headers && { headers: call.headers }),
                  ...(call.follow === false && { redirect: 'manual' }),
                }),
              )
              .then(async (r) => {
                await r.arrayBuffer()
                return r.status
              }),
          ),
        close: () => void agent.close(),
      }
    }
    case 'undici': {
      const auth = oauth2(provider, matched as AdapterOptions & { match: string })
      const redirect = interceptors.redirect({ maxRedirections: 20 })
      // each wraps the handler anew for every hop the redirect interceptor sends
      const decorate: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) =>
        dispatch(opts, new DecoratorHandler(handler as never) as never)
      const middle = { retry: [interceptors.retry({ maxRetries: 1, minTimeout: 1 })], decorator: [decorate] }
      const viaFetch = (underFetch === 'global' ? globalThis.fetch : undiciFetch) as (
        url: string | URL,
        init: object,
      ) => Promise<Response>
      if (underFetch)
        return {
          send: (call) =>
            settle(
              viaFetch(absolute(call.target) ? call.target : new URL(call.target, `${base}/`), {
                dispatcher: agent.compose(auth),
                ...(call.headers && { headers: call.headers }),
                ...(call.follow === false && { redirect: 'manual' }),
              }).then(async (r) => {
                await r.arrayBuffer()
                return r.status
              }),
            ),
          close: () => void agent.close(),
        }
      return {
        send: (call) => {
          // compose(): the last interceptor is the outermost
          const chain: Dispatcher.DispatchInterceptor[] =
            call.follow === false
              ? [auth]
              : redirectInside
                ? [redirect, auth]
                : [auth, ...(between ? middle[between] : []), redirect]
          if (call.retries)
            chain.push(interceptors.retry({ maxRetries: call.retries, minTimeout: 1, statusCodes: [503] }))
          const dispatcher = agent.compose(...chain)
          return settle(
            Promise.resolve()
              .then(() =>
                undiciRequest(absolute(call.target) ? call.target : new URL(call.target, `${base}/`), {
                  dispatcher,
                  ...(call.headers && { headers: call.headers }),
                }),
              )
              .then(async (r) => {
                await r.body.dump()
                return r.statusCode
              }),
          )
        },
        close: () => void agent.close(),
      }
    }
    case 'ky': {
      const client = ky.create({
        prefixUrl: base,
        throwHttpErrors: false,
        retry: 0,
        timeout: false,
        ...kyHooks(provider, { ...options, fetch: viaAgent as typeof fetch }),
      })
      return {
        send: (call) =>
          settle(
            Promise.resolve()
              .then(() =>
                client(call.target, {
                  ...(call.headers && { headers: call.headers }),
                  ...(call.base !== undefined
                    ? { prefixUrl: call.base }
                    : absolute(call.target) && { prefixUrl: '' }),
                  ...(call.follow === false && { redirect: 'manual' }),
                  // ky retries only what it would throw
                  ...(call.retries && {
                    retry: { limit: call.retries, statusCodes: [503], delay: () => 1 },
                    throwHttpErrors: true,
                  }),
                }),
              )
              .then(async (r) => {
                await r.arrayBuffer()
                return r.status
              }),
          ),
        close: () => void agent.close(),
      }
    }
  }
}

describe.each(names.flatMap((name) => [false, true].map((dpop) => ({ name, dpop }))))(
  '$name (DPoP: $dpop): origin probes',
  ({ name, dpop }) => {
    let api: Recording
    let evil: Recording
    /** An API on https and plain http at once, on one port. */
    let dual: Recording
    /** An API on IPv6 loopback. */
    let six: Recording
    let provider: TokenProvider
    let tokens: string[]
    const clients: ProbeClient[] = []
    /** A client for the API on `host` (port A), plain http allowed off loopback (every name is loopback here). */
    const open = (setup: Partial<ClientSetup> = {}, host = 'api.test') => {
      const client = createClient(name, provider, {
        base: `http://${host}:${api.port}`,
        allowInsecureHttp: true,
        ...setup,
      })
      clients.push(client)
      return client
    }
    const A = () => `http://api.test:${api.port}`
    const E = (host = 'evil.test') => `http://${host}:${evil.port}`
    const redirect = (to: string, status = 302) => `${A()}/r?status=${status}&to=${encodeURIComponent(to)}`

    beforeAll(async () => {
      api = await record()
      evil = await record()
      dual = await record(certificate())
      six = await record(undefined, '::1')
    })
    afterAll(async () => {
      await api.close()
      await evil.close()
      await dual.close()
      await six.close()
    })
    beforeEach(() => {
      api.seen.length = 0
      evil.seen.length = 0
      dual.seen.length = 0
      six.seen.length = 0
      tokens = []
      provider = issuingProvider(tokens, dpop, {
        tokenEndpoint: `http://127.0.0.1:${evil.port}/token`,
        retry: false,
        failureCooldown: 0,
      })
    })
    afterEach(async () => {
      for (const client of clients.splice(0)) client.close()
      await provider.close()
    })

    /** The second origin saw no token and no proof, in any header. */
    const nothingAtEvil = () => {
      const text = JSON.stringify(evil.seen.map((s) => s.headers))
      for (const token of tokens) expect(text).not.toContain(token)
      expect(evil.seen.filter((s) => s.dpop !== undefined)).toEqual([])
    }
    /** One relative request to the API, so a client has its token (and ky has seen its prefixUrl). */
    const warm = async (client: ProbeClient) => {
      expect((await client.send({ target: 'warm' })).status).toBe(200)
      return client
    }
    const authorized = (seen: Seen) => seen.authorization?.startsWith(dpop ? 'DPoP ' : 'Bearer ') === true

    it('control: the API gets the token, the second origin nothing', async () => {
      const client = await warm(open())
      api.seen.length = 0
      expect((await client.send({ target: `${A()}/x`, headers: { cookie: 'a=1' } })).status).toBe(200)
      expect(api.seen[0]!.headers.cookie).toBe('a=1') // the caller's cookie goes as it is
      expect((await client.send({ target: `${E()}/x` })).status).toBe(200)
      expect(api.seen.map(authorized)).toEqual([true])
      expect(evil.seen.map((s) => s.authorization)).toEqual([undefined])
      nothingAtEvil()
    })

    it.each([
      ['a look-alike suffix host', () => `${E('api.test.evil.test')}/x`],
      ['the same host on another port', () => `${E('api.test')}/x`],
      ['a percent-encoded dot in the host', () => `${E('api.test%2Eevil.test')}/x`],
      ['the API as userinfo', () => `http://api.test:${api.port}@evil.test:${evil.port}/x`],
      ['a backslash authority', () => `http:\\\\evil.test:${evil.port}\\x`],
      ['a decimal IPv4 host', () => `http://2130706433:${evil.port}/x`],
      ['a scheme-relative URL', () => `//evil.test:${evil.port}/x`],
    ])('%s: nothing at the second origin', async (_label, target) => {
      const client = await warm(open())
      await client.send({ target: target() })
      nothingAtEvil()
    })

    it.each<[string, () => string, boolean]>([
      ['upper case', () => `http://API.TEST:${api.port}/x`, true],
      ['a trailing dot (another origin to the URL parser)', () => `http://api.test.:${api.port}/x`, false],
      ['a percent-encoded dot (the same host once decoded)', () => `http://api%2Etest:${api.port}/x`, true],
    ])('the API host written as %s', async (_label, target, expected) => {
      const client = await warm(open())
      api.seen.length = 0
      await client.send({ target: target() })
      expect(api.seen.map(authorized)).toEqual([expected])
      nothingAtEvil()
    })

    it.each([
      ['127.1', () => `http://127.1:${api.port}/x`],
      ['0x7f.0.0.1', () => `http://0x7f.0.0.1:${api.port}/x`],
      ['2130706433', () => `http://2130706433:${api.port}/x`],
    ])('a base URL of 127.0.0.1 reached as %s: the same origin, token sent', async (_label, target) => {
      const client = await warm(open({}, '127.0.0.1'))
      api.seen.length = 0
      await client.send({ target: target() })
      expect(api.seen.map(authorized)).toEqual([true])
    })

    it('an IPv6 base URL reached in another spelling: the same origin, token sent; the second origin nothing', async () => {
      const client = await warm(open({ base: `http://[::1]:${six.port}`, allowInsecureHttp: false }))
      await client.send({ target: `http://[0:0:0:0:0:0:0:1]:${six.port}/long` })
      await client.send({ target: `http://[::ffff:127.0.0.1]:${evil.port}/mapped` })
      expect(six.seen.map((s) => [s.path, authorized(s)])).toEqual([
        ['/warm', true],
        ['/long', true],
      ])
      expect(evil.seen.map((s) => s.path)).toEqual(['/mapped'])
      nothingAtEvil()
    })

    it.each([
      ['to the second origin', () => `${E()}/landing`, 302],
      ['to the same host on another port', () => `${E('api.test')}/landing`, 307],
      ['to a look-alike host', () => `${E('api.test.evil.test')}/landing`, 301],
      ['with a scheme-relative Location', () => `//evil.test:${evil.port}/landing`, 302],
      [
        'with userinfo naming the API',
        () => `http://api.test:${api.port}@evil.test:${evil.port}/landing`,
        302,
      ],
      [
        '303 away, then 307 back to the API',
        () => `${E()}/r?status=307&to=${encodeURIComponent(`${A()}/back`)}`,
        303,
      ],
      ['to the token endpoint', () => `http://127.0.0.1:${evil.port}/token`, 308],
      [
        'with a tab in the host (the URL parser drops it)',
        () => `http://api.test\t.evil.test:${evil.port}/landing`,
        302,
      ],
      ['to a subdomain of the API host', () => `${E('sub.api.test')}/landing`, 307],
    ] as const)(
      'a redirect %s: nothing at the second origin, nothing put back',
      async (_label, to, status) => {
        const client = await warm(open())
        api.seen.length = 0
        await client.send({ target: redirect(to(), status) })
        nothingAtEvil()
        expect(api.seen.filter((s) => s.path !== '/r').map((s) => [s.authorization, s.dpop])).toEqual(
          api.seen.filter((s) => s.path !== '/r').map(() => [undefined, undefined]),
        )
      },
    )

    it.each([undefined, 'retry', 'decorator'] as const)(
      'a request elsewhere that a redirect brings to the API: that hop carries nothing (undici interceptor between: %s)',
      async (between) => {
        if (between && name !== 'undici') return
        const client = await warm(open(between && { between }))
        api.seen.length = 0
        // the second origin chose the path (and with a 307, the method and body) the hop carries
        await client.send({
          target: `${E()}/r?status=307&to=${encodeURIComponent(`${A()}/landing`)}`,
          base: '',
        })
        expect(api.seen.map((s) => [s.path, s.authorization, s.dpop])).toEqual([
          ['/landing', undefined, undefined],
        ])
      },
    )

    it('a redirect to a subdomain of the API host on the API’s own port: that hop carries nothing', async () => {
      const client = await warm(open())
      api.seen.length = 0
      await client.send({ target: redirect(`http://sub.api.test:${api.port}/landing`) })
      expect(api.seen.map((s) => [s.host, s.path, authorized(s), s.dpop !== undefined])).toEqual([
        [`api.test:${api.port}`, '/r', true, dpop],
        [`sub.api.test:${api.port}`, '/landing', false, false],
      ])
    })

    it('a redirect with userinfo back to the API itself: the hop carries no token', async () => {
      const client = await warm(open())
      api.seen.length = 0
      await client.send({ target: redirect(`http://u:p@api.test:${api.port}/landing`) })
      const landed = api.seen.filter((s) => s.path === '/landing').map((s) => s.authorization)
      // got and undici drop the Location's userinfo (the hop is the API's, with the token); axios
      // drops the token (and with DPoP, where the hop is axios's own request, sends the userinfo as
      // Basic); fetch refuses a redirect to a URL with credentials, nothing is sent
      const expected = {
        axios: [dpop ? `Basic ${btoa('u:p')}` : undefined],
        got: [`${dpop ? 'DPoP' : 'Bearer'} ${tokens[0]}`],
        undici: [`${dpop ? 'DPoP' : 'Bearer'} ${tokens[0]}`],
        fetch: [],
        ky: [],
      }[name]
      expect(landed).toEqual(expected)
    })

    it('the client told not to follow: the redirect comes back, nothing at the second origin', async () => {
      const client = await warm(open())
      const { status } = await client.send({ target: redirect(`${E()}/landing`), follow: false })
      expect(status).toBe(302)
      expect(evil.seen).toEqual([])
    })

    it('undici’s redirect interceptor composed inside oauth2(): nothing at the second origin', async () => {
      if (name !== 'undici') return
      const client = await warm(open({ redirectInside: true }))
      const { error } = await client.send({
        target: redirect(`${E()}/r?to=${encodeURIComponent(`${A()}/back`)}`),
      })
      nothingAtEvil()
      // a Bearer token undici's redirect handler strips itself; a proof it would carry on, so the hop is refused
      if (dpop) expect(error).toMatchObject({ name: 'DpopError', code: 'ERR_DPOP' })
      else expect(error).toBeUndefined()
      expect(evil.seen.map((s) => s.path)).toEqual(dpop ? [] : ['/r'])
      // undici's retry interceptor outside both, after a redirect away that answers 503
      evil.seen.length = 0
      evil.failures = 2
      await client.send({ target: redirect(`${E()}/fail`), retries: 2 })
      evil.failures = 0
      expect(evil.seen.map((s) => s.path)).toEqual(dpop ? [] : ['/fail', '/fail', '/fail'])
      nothingAtEvil()
    })

    it.each(['retry', 'decorator'] as const)(
      'undici with a %s interceptor between oauth2() and the redirect interceptor: nothing at the second origin, nothing put back',
      async (between) => {
        if (name !== 'undici') return
        const client = await warm(open({ between }))
        api.seen.length = 0
        await client.send({ target: redirect(`${E()}/r?status=307&to=${encodeURIComponent(`${A()}/back`)}`) })
        nothingAtEvil()
        expect(api.seen.map((s) => [s.path, authorized(s), s.dpop !== undefined])).toEqual([
          ['/r', true, dpop],
          ['/back', false, false],
        ])
      },
    )

    it.each(
      (['undici', 'global'] as const).flatMap((underFetch) =>
        [302, 303, 307, 308].map((status) => ({ underFetch, status })),
      ),
    )(
      'undici under $underFetch fetch (each hop a new request): A → E → A ($status), the hop back carries nothing; a same-origin hop keeps the token',
      async ({ underFetch, status }) => {
        if (name !== 'undici') return
        const client = await warm(open({ underFetch }))
        api.seen.length = 0
        const back = `${E()}/r?status=${status}&to=${encodeURIComponent(`${A()}/back`)}`
        await client.send({ target: redirect(back, status) })
        await client.send({ target: redirect(`${A()}/landing`, status) })
        nothingAtEvil()
        expect(evil.seen.map((s) => s.path)).toEqual(['/r'])
        expect(api.seen.map((s) => [s.path, authorized(s), s.dpop !== undefined])).toEqual([
          ['/r', true, dpop],
          ['/back', false, false],
          ['/r', true, dpop],
          ['/landing', true, dpop],
        ])
      },
    )

    it.each([
      ['the second origin', () => `${E()}/page`],
      ['the same host on another port', () => `${E('api.test')}/page`],
      ['a look-alike host', () => `${E('api.test.evil.test')}/page`],
    ])('got paginate, a Link to %s: that page gets nothing', async (_, next) => {
      if (name !== 'got') return
      await warm(open())
      const pages = got.extend(oauth2Hooks(provider, { allowInsecureHttp: true }), {
        prefixUrl: A(),
        dnsLookup: lookup as never,
        retry: { limit: 0 },
      })
      // got sets the next page's prefixUrl to '' itself: the instance's still scopes the token
      await pages.paginate.all(`page?next=${encodeURIComponent(next())}`, { responseType: 'json' })
      expect(evil.seen.map((s) => s.path)).toEqual(['/page'])
      nothingAtEvil()
      expect(api.seen.filter((s) => s.path === '/page').map(authorized)).toEqual([true])
    })

    it.each([302, 307])(
      'axios’s fetch adapter, a redirect away (%s) whose 401 names invalid_token: no renewal, no replay, nothing at the second origin',
      async (status) => {
        if (name !== 'axios') return
        const client = await warm(open({ axiosFetch: true }))
        api.seen.length = 0
        expect((await client.send({ target: redirect(`${E()}/401`, status) })).status).toBe(401)
        expect(tokens).toHaveLength(1)
        expect(api.seen.map((s) => [s.path, authorized(s)])).toEqual([['/r', true]])
        expect(evil.seen.map((s) => s.path)).toEqual(['/401'])
        nothingAtEvil()
        // a same-origin hop keeps the token
        await client.send({ target: redirect(`${A()}/landing`, status) })
        expect(api.seen.filter((s) => s.path === '/landing').map(authorized)).toEqual([true])
      },
    )

    it('the client’s own retries after a redirect away: every retry without the token', async () => {
      const client = await warm(open())
      evil.failures = 2
      await client.send({ target: redirect(`${E()}/fail`), retries: 2 })
      evil.failures = 0
      // got and undici retry the redirected URL; ky sends the whole request again (its redirects
      // are fetch's); axios and fetch have no retries of their own
      const retried = { got: 3, undici: 3, ky: 3, axios: 1, fetch: 1 }[name]
      expect(evil.seen.map((s) => s.path)).toEqual(Array(retried).fill('/fail'))
      nothingAtEvil()
    })

    it('the caller’s own Authorization (any case) is never replaced or doubled, through a same-origin redirect too', async () => {
      const client = await warm(open())
      api.seen.length = 0
      await client.send({ target: `${A()}/own`, headers: { AUTHORIZATION: 'Basic b3duOm93bg==' } })
      await client.send({
        target: redirect(`${A()}/own-landing`, 307),
        headers: { authorization: 'Basic b3duOm93bg==' },
      })
      expect(api.seen.map((s) => [s.path, s.rawAuthorization, s.dpop])).toEqual([
        ['/own', ['Basic b3duOm93bg=='], undefined],
        ['/r', ['Basic b3duOm93bg=='], undefined],
        ['/own-landing', ['Basic b3duOm93bg=='], undefined],
      ])
    })

    it('plain http to a host off loopback is refused before anything is sent (allowInsecureHttp off)', async () => {
      const client = open({ allowInsecureHttp: false })
      const { error } = await client.send({ target: `${A()}/x` })
      expect(error).toBeDefined()
      expect(api.seen).toEqual([])
      expect(tokens).toEqual([])
    })

    it('a name under .localhost is not loopback in Node (DNS answers for it): plain http to it is refused, unsent', async () => {
      // the client's lookup sends it to the recording server, as a resolver that answers for it would
      const client = open({ base: `http://api.localhost:${api.port}`, allowInsecureHttp: false })
      // ky: a path under its prefixUrl (an absolute URL would leave the hooks no base to scope by)
      const target = name === 'ky' ? 'x' : `http://api.localhost:${api.port}/x`
      const { error } = await client.send({ target })
      expect(error).toMatchObject({ code: 'ERR_INSECURE_HTTP' })
      expect(api.seen).toEqual([])
      expect(tokens).toEqual([])
    })

    it('a cold client whose first request is absolute with an empty base URL: nothing at the second origin', async () => {
      const client = open()
      const { status, error } = await client.send({ target: `${E()}/presigned`, base: '' })
      if (name === 'ky') {
        // ky keeps no record of an instance's prefixUrl once a request overrides it: with none seen
        // yet the hooks cannot tell where the token may go, so the request is refused, unsent
        expect(error).toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/^match: /) })
        expect(evil.seen).toEqual([])
      } else {
        expect(status).toBe(200)
        expect(evil.seen.map((s) => s.path)).toEqual(['/presigned'])
      }
      nothingAtEvil()
    })

    it('with an explicit match string, look-alikes of it get nothing', async () => {
      const client = await warm(open({ match: A() }))
      for (const host of ['api.test.evil.test', 'api.test', 'API.TEST.evil.test'])
        await client.send({ target: `${E(host)}/x`, base: '' })
      expect(evil.seen.map((s) => s.path)).toEqual(['/x', '/x', '/x'])
      nothingAtEvil()
    })

    it('a per-request base URL naming the second origin', async () => {
      if (name === 'fetch' || name === 'undici') return // no base URL of their own
      const client = await warm(open())
      await client.send({ target: 'x', base: E() })
      // the request's own base URL is its base URL: axios, got and ky all authorize its origin
      expect(evil.seen.map(authorized)).toEqual([true])
    })

    it('a redirect from https down to http on the same host and port: the http hop carries nothing', async () => {
      const secure = `https://api.test:${dual.port}`
      const client = await warm(open({ base: secure, ca: certificate().cert, allowInsecureHttp: false }))
      const insecure = `http://api.test:${dual.port}/landing`
      await client.send({ target: `${secure}/r?to=${encodeURIComponent(insecure)}` })
      expect(dual.seen.map((s) => [s.secure, s.path, authorized(s)])).toEqual([
        [true, '/warm', true],
        [true, '/r', true],
        [false, '/landing', false],
      ])
      expect(dual.seen.at(-1)!.dpop).toBeUndefined()
    })

    it('a wrapped fetch that keeps authorization on the same host name or a subdomain (node-fetch): nothing at the second origin', async () => {
      if (name !== 'fetch' && name !== 'ky') return // they wrap a fetch of the caller's choice
      const client = await warm(open({ nodeFetchRedirects: true }))
      api.seen.length = 0
      await client.send({ target: redirect(`${E('api.test')}/port`) })
      await client.send({ target: redirect(`${E('sub.api.test')}/subdomain`, 307) })
      expect(evil.seen.map((s) => s.path)).toEqual(['/port', '/subdomain'])
      nothingAtEvil()
      await client.send({ target: redirect(`${A()}/home`) })
      expect(api.seen.filter((s) => s.path === '/home').map(authorized)).toEqual([true])
    })

    it('a same-origin redirect keeps the token (and a new proof)', async () => {
      const client = await warm(open())
      api.seen.length = 0
      await client.send({ target: redirect(`${A()}/landing`, 307) })
      const landed = api.seen.filter((s) => s.path === '/landing')
      expect(landed.map(authorized)).toEqual([true])
      if (dpop) expect(landed[0]!.dpop).not.toBe(api.seen[0]!.dpop)
    })
  },
)

describe('a page whose <base href> names another origin (a browser resolves relative URLs against it)', () => {
  let api: Recording
  let evil: Recording
  const realFetch = globalThis.fetch
  beforeAll(async () => {
    api = await record()
    evil = await record()
  })
  afterAll(async () => {
    await api.close()
    await evil.close()
  })
  afterEach(() => {
    globalThis.fetch = realFetch
    delete (globalThis as { location?: unknown }).location
    delete (globalThis as { document?: unknown }).document
  })

  it('fetch: a relative URL goes to the base, without the token', async () => {
    const page = `http://127.0.0.1:${api.port}`
    // the document's base URL, as a markup injection (no script) can set it
    Object.assign(globalThis, {
      location: { href: `${page}/app/` },
      document: { baseURI: `http://127.0.0.1:${evil.port}/` },
    })
    globalThis.fetch = (input, init) =>
      realFetch(input instanceof Request ? input : new URL(String(input), document.baseURI), init)
    const provider = fixedTokenProvider(undefined, { tokenEndpoint: `${page}/token` })
    const authFetch = withOAuth2(provider, { match: page })
    await (await authFetch('/api/orders')).arrayBuffer()
    await (await authFetch(`${page}/api/orders`)).arrayBuffer()
    expect(evil.seen.map((s) => [s.path, s.authorization])).toEqual([['/api/orders', undefined]])
    expect(api.seen.map((s) => [s.path, s.authorization])).toEqual([['/api/orders', 'Bearer tok-SECRET']])
    await provider.close()
  })
})
