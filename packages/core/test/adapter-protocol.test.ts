import { inspect } from 'node:util'
import {
  ConfigError,
  createTokenProvider,
  InsecureHttpError,
  type TokenProvider,
  TokenRequestError,
} from '@tokenwell/core'
import { type ClientShape, createRequestProtocol, type Grant, scrubSecrets } from '@tokenwell/core/adapter'
import { server } from '@tokenwell/mock-server/msw'
import fc from 'fast-check'
import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { loadScrubber } from '../src/adapter/scrub.js'

const tokenEndpoint = 'https://as.test/token'

/** A request and a response as a minimal client would hold them. */
interface Req {
  method: string
  url: string
  base?: string
  defaultBase?: string
  auth?: boolean
  body?: unknown
  signal?: AbortSignal
  timeout?: number
}
interface Res {
  status: number
  headers: Headers
  url?: string
}
const shape: ClientShape<Req, Res> = {
  url: (r) => r.url,
  method: (r) => r.method,
  base: (r) => r.base,
  defaultBase: (r) => r.defaultBase,
  ownCredentials: (r) => r.auth === true,
  body: (r) => r.body,
  signal: (r) => r.signal,
  timeout: (r) => r.timeout,
  status: (s) => s.status,
  header: (s, name) => s.headers.get(name),
  responseUrl: (s) => s.url,
}
const get = (url: string, extra: Partial<Req> = {}): Req => ({ method: 'GET', url, ...extra })
const res = (status: number, headers: Record<string, string> = {}, url?: string): Res => ({
  status,
  headers: new Headers(headers),
  ...(url !== undefined && { url }),
})

function counting(latency = 0): { provider: TokenProvider; hits: () => number } {
  let hits = 0
  server.use(
    http.post(tokenEndpoint, async () => {
      hits++
      if (latency) await delay(latency)
      return HttpResponse.json({ access_token: `secret-t${hits}`, token_type: 'Bearer', expires_in: 300 })
    }),
  )
  return {
    provider: createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false }),
    hits: () => hits,
  }
}

/** The grant `begin` gives, waiting if it must. */
async function grantOf(protocol: { begin(r: Req): unknown }, request: Req): Promise<Grant | undefined> {
  return (await protocol.begin(request)) as Grant | undefined
}

describe('createRequestProtocol: which requests get the token', () => {
  it('every request without match or base URL; only the base URL origin with one; an empty base falls back to the client’s', async () => {
    const { provider } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    expect((await grantOf(p, get('https://any.test/x')))?.authorization).toBe('Bearer secret-t1')
    expect(p.begin(get('https://other.test/x', { base: 'https://api.test/v1' }))).toBeUndefined()
    expect(p.begin(get('https://api.test/v1/a', { base: 'https://api.test/v1' }))).toBeDefined()
    // axios `baseURL: ''` / got `prefixUrl: ''` on one request: the client's base still decides
    expect(
      p.begin(get('https://other.test/x', { base: '', defaultBase: 'https://api.test' })),
    ).toBeUndefined()
    expect(p.begin(get('https://api.test/x', { base: '', defaultBase: 'https://api.test' }))).toBeDefined()
    expect(p.begin(get('https://api.test/x', { base: 'not a url' }))).toBeUndefined()
  })

  it('tests a RegExp against the origin only: a query, path or userinfo naming the API cannot fool it', async () => {
    const { provider, hits } = counting()
    const p = createRequestProtocol(provider, { match: /api\.example\.com/ }, shape)
    for (const url of [
      'https://other.example/?next=https://api.example.com/',
      'https://other.example/api.example.com/x',
      'https://other.example/#api.example.com',
    ])
      expect(p.begin(get(url))).toBeUndefined()
    expect(await grantOf(p, get('https://api.example.com/orders?x=1'))).toBeDefined()
    expect(hits()).toBe(1)
    // anchored, it names whole origins: a longer host does not match
    const anchored = createRequestProtocol(provider, { match: /^https:\/\/api\.example\.com$/ }, shape)
    expect(anchored.begin(get('https://api.example.com.evil.test/'))).toBeUndefined()
    expect(anchored.begin(get('https://api.example.com/x'))).toBeDefined()
  })

  it('matches origin strings and gives a predicate a copy of the whole URL', async () => {
    const { provider } = counting()
    const seen: string[] = []
    const p = createRequestProtocol(
      provider,
      {
        match: [
          'https://a.test',
          (url: URL) => {
            seen.push(url.href)
            return url.pathname.startsWith('/open')
          },
        ],
      },
      shape,
    )
    expect(await grantOf(p, get('https://a.test/x'))).toBeDefined()
    expect(p.begin(get('https://b.test/closed?q=1'))).toBeUndefined()
    expect(await grantOf(p, get('https://b.test/open'))).toBeDefined()
    expect(seen).toEqual(['https://b.test/closed?q=1', 'https://b.test/open'])
  })

  it('gives nothing to a request with the caller’s own credentials: a header or client auth, or userinfo in the URL', async () => {
    const { provider, hits } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    expect(p.begin(get('https://api.test/x', { auth: true }))).toBeUndefined()
    expect(p.begin(get('https://user:pw@api.test/x'))).toBeUndefined()
    expect(p.begin(get('https://user@api.test/x'))).toBeUndefined()
    expect(hits()).toBe(0)
    await grantOf(p, get('https://api.test/x'))
    // an origin seen before is recognized without parsing; its userinfo variant still is not
    expect(p.begin(get('https://u:p@api.test/x'))).toBeUndefined()
  })

  it('refuses plain http off loopback with InsecureHttpError before any token request, naming the origin only', () => {
    const { provider, hits } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    const error = (() => {
      try {
        p.begin(get('http://api.example.com/x?token=q'))
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(InsecureHttpError)
    expect((error as InsecureHttpError).code).toBe('ERR_INSECURE_HTTP')
    expect((error as Error).message).not.toContain('token=q')
    expect(p.begin(get('http://127.0.0.1:1/x'))).toBeInstanceOf(Promise)
    expect(
      createRequestProtocol(provider, { allowInsecureHttp: true }, shape).begin(
        get('http://api.example.com'),
      ),
    ).toBeInstanceOf(Promise)
    expect(hits()).toBe(0)
  })

  it('fails at once for a bad provider or a match string that is not an origin, without echoing it', () => {
    expect(() => createRequestProtocol({} as never, {}, shape)).toThrow(ConfigError)
    const { provider } = counting()
    for (const bad of [
      'https://u:secret-pw@api.test',
      'https://api.test/path',
      'api.test',
      'https://a.test?',
    ])
      expect(() => createRequestProtocol(provider, { match: bad }, shape)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG', message: expect.not.stringContaining('secret-pw') }),
      )
    expect(() => createRequestProtocol(provider, { match: 42 as never }, shape)).toThrow(ConfigError)
  })
})

describe('createRequestProtocol: the token wait and the hot path', () => {
  it('answers synchronously with one reused grant for a cached Bearer token', async () => {
    const { provider } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    expect(p.ready()).toBe(false)
    const first = await grantOf(p, get('https://api.test/a'))
    expect(p.ready()).toBe(true)
    const again = p.begin(get('https://api.test/b?q=1'))
    expect(again).not.toBeInstanceOf(Promise)
    expect(again).toBe(first) // nothing allocated per request
    expect(p.onResponse(first!, get('https://api.test/b'), res(200))).toBeUndefined()
    expect(p.onResponse(first!, get('https://api.test/b'), res(500))).toBeUndefined()
  })

  it('lets one request abort its wait (undefined: the client fails it) while others get the token', async () => {
    const { provider, hits } = counting(50)
    const p = createRequestProtocol(provider, {}, shape)
    const controller = new AbortController()
    const aborted = p.begin(get('https://api.test/a', { signal: controller.signal }))
    const other = p.begin(get('https://api.test/b'))
    controller.abort(new Error('caller gave up'))
    expect(await aborted).toBeUndefined()
    expect((await other)?.authorization).toBe('Bearer secret-t1')
    expect(hits()).toBe(1)
  })

  it('bounds the wait by the client timeout with TokenRequestError; the token still arrives for others', async () => {
    const { provider, hits } = counting(80)
    const p = createRequestProtocol(provider, {}, shape)
    const late = p.begin(get('https://api.test/a', { timeout: 10 }))
    const patient = p.begin(get('https://api.test/b', { timeout: 5_000 }))
    await expect(late).rejects.toSatisfy((e) => e instanceof TokenRequestError && e.message.includes('10 ms'))
    expect((await patient)?.token.accessToken).toBe('secret-t1')
    expect(hits()).toBe(1)
  })
})

describe('createRequestProtocol: responses, the one replay, redirects', () => {
  it('renews once for a storm of 401s carrying one stale token, and replays each request once', async () => {
    const { provider, hits } = counting(20)
    const p = createRequestProtocol(provider, {}, shape)
    const stale = (await grantOf(p, get('https://api.test/a')))!
    const replays = await Promise.all(
      Array.from({ length: 50 }, () => p.onResponse(stale, get('https://api.test/a'), res(401))),
    )
    expect(hits()).toBe(2)
    expect(new Set(replays.map((g) => g?.authorization))).toEqual(new Set(['Bearer secret-t2']))
    expect(replays.every((g) => g?.replayed)).toBe(true)
    // the replay's own 401 goes to the caller
    expect(p.onResponse(replays[0]!, get('https://api.test/a'), res(401))).toBeUndefined()
  })

  it('does not replay insufficient_scope, a stream body, a 401 from another origin, or an aborted request', async () => {
    const { provider, hits } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    const grant = (await grantOf(p, get('https://api.test/a')))!
    const scope = res(401, { 'www-authenticate': 'Bearer error="insufficient_scope"' })
    expect(p.onResponse(grant, get('https://api.test/a'), scope)).toBeUndefined()
    expect(
      p.onResponse(grant, get('https://api.test/a', { body: new ReadableStream() }), res(401)),
    ).toBeUndefined()
    expect(
      p.onResponse(grant, get('https://api.test/a'), res(401, {}, 'https://elsewhere.test/x')),
    ).toBeUndefined()
    const controller = new AbortController()
    controller.abort()
    expect(
      await p.onResponse(grant, get('https://api.test/a', { signal: controller.signal }), res(401)),
    ).toBeUndefined()
    expect(hits()).toBe(1)
  })

  it('a redirect chain that left the origin carries nothing, even when it comes back (A → B → A)', async () => {
    const { provider } = counting()
    const p = createRequestProtocol(provider, {}, shape)
    const grant = (await grantOf(p, get('https://a.test/start')))!
    expect(await p.again(grant, get('https://a.test/next'))).toBe(grant)
    const atB = await p.again(grant, get('https://b.test/hop'))
    expect(atB.authorization).toBeUndefined()
    const backAtA = await p.again(atB, get('https://a.test/back'))
    expect(backAtA.authorization).toBeUndefined()
    expect(backAtA.proof).toBeUndefined()
    expect(p.onResponse(backAtA, get('https://a.test/back'), res(401))).toBeUndefined()
  })
})

describe('scrubSecrets', () => {
  it('leaves no secret under util.inspect at any depth or JSON.stringify, wherever it sits', () => {
    const secret = 'tok-5ecret-value'
    const leaf = fc.oneof(
      fc.constant(`Bearer ${secret}`),
      fc.constant(`GET / HTTP/1.1\r\nAuthorization: Bearer ${secret}\r\n`),
      fc.string({ maxLength: 8 }),
      fc.integer(),
    )
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom('authorization', 'Authorization', 'dpop', 'x', '_header'),
          tie('tree'),
          {
            maxKeys: 4,
          },
        ),
      ),
    }))
    fc.assert(
      fc.property(tree, (value) => {
        const holder = { nested: value, map: new Map([['k', `Bearer ${secret}`]]), [Symbol('s')]: value }
        scrubSecrets(holder, [secret])
        expect(inspect(holder, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(secret)
        expect(JSON.stringify(holder)).not.toContain(secret)
      }),
    )
  })

  it('overwrites a secret in the first 64 KiB of bytes (a Buffer, an ArrayBuffer) in place, and gives a Request whose URL holds one a redacted url', async () => {
    await loadScrubber()
    const secret = 'tok-5ecret-value-in-bytes'
    const body = Buffer.from(`{"seen":"${secret}"}`)
    const far = new Uint8Array(70_000).fill(32)
    far.set(Buffer.from(secret), 100)
    far.set(Buffer.from(secret), 69_000) // past what is searched: left as it is
    const raw = new TextEncoder().encode(`x ${secret}`).buffer
    const request = new Request(`https://api.example.com/landing?t=${secret}`)
    const error = { response: { data: body, chunks: [far], raw }, request }
    scrubSecrets(error, [secret])
    expect(body.length).toBe(secret.length + 11)
    expect(body.toString()).toBe(`{"seen":"${'*'.repeat(secret.length)}"}`)
    expect(Buffer.from(far).indexOf(secret)).toBe(69_000)
    expect(Buffer.from(raw).toString()).not.toContain(secret)
    expect(request.url).not.toContain(secret)
    // a fetched response's URL, after a redirect that echoed it; scrubbed twice over (a proof's second pass)
    const fetched = Object.defineProperty(new Response('{}'), 'url', {
      value: `https://api.example.com/landing?t=${secret}`,
      configurable: true,
    })
    const twice = { response: fetched }
    scrubSecrets(twice, [secret])
    scrubSecrets(twice, [secret, 'example.com/landing'])
    expect(twice.response.url).not.toContain(secret)
    const printed = inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })
    expect(printed).not.toContain(
      Buffer.from(secret.slice(0, 12))
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    )
    expect(printed).not.toContain(secret)
  })

  it('deletes an authorization header holding the secret, so a resend is authorized anew', () => {
    const config = { headers: { Authorization: 'Bearer s3cret-token', Accept: 'json' } }
    scrubSecrets(config, ['s3cret-token'])
    expect(config.headers).toEqual({ Accept: 'json' })
  })

  it('replaces a fetched response that echoed a secret in a header or its status text with a copy the caller can still read', async () => {
    const secret = 'tok-5ecret-value-echoed'
    // as an API answered it (a fetched response's headers are immutable: scrubbed in a copy)
    const echoed = new Response(JSON.stringify({ error: 'invalid_token' }), {
      status: 401,
      statusText: `Unauthorized ${secret}`,
      headers: { 'x-echo': secret, 'www-authenticate': `Bearer error="invalid_token", token="${secret}"` },
    })
    const error = { name: 'HTTPError', response: echoed }
    scrubSecrets(error, [secret])
    const response = error.response
    expect(response).not.toBe(echoed)
    const shown = [...response.headers].join(' ') + response.statusText
    expect(shown).not.toContain(secret)
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(secret)
    expect(response.status).toBe(401)
    expect(response.headers.get('x-echo')).toMatch(/^\[redacted\]$/i)
    expect(await response.json()).toEqual({ error: 'invalid_token' }) // the body is still the caller's
    // nothing to scrub: the very same response
    const clean = { response: new Response('ok', { headers: { 'x-a': 'b' } }) }
    const before = clean.response
    scrubSecrets(clean, [secret])
    expect(clean.response).toBe(before)
  })
})
