import {
  assertSecureTransport,
  ConfigError,
  createAuthPolicy,
  createToken,
  createTokenProvider,
  InsecureHttpError,
  isReplayableBody,
  parseWwwAuthenticate,
  shouldAuthorize,
  shouldReplay,
  type TokenProvider,
  TokenRequestError,
} from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'

const tokenEndpoint = 'https://as.test/token'

function countingProvider(options: { latency?: number } = {}): {
  provider: TokenProvider
  hits: () => number
} {
  let hits = 0
  server.use(
    http.post(tokenEndpoint, async () => {
      hits++
      if (options.latency) await delay(options.latency)
      return HttpResponse.json({ access_token: `t${hits}`, token_type: 'Bearer', expires_in: 300 })
    }),
  )
  const provider = createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', retry: false })
  return { provider, hits: () => hits }
}

describe('parseWwwAuthenticate', () => {
  it('reads a Bearer challenge with token and quoted-string parameters', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="example", error=invalid_token, error_description="The token expired"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'example', error: 'invalid_token', error_description: 'The token expired' },
      },
    ])
  })

  it('keeps commas, equals signs and escaped quotes inside quoted strings', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="a, b=c", error_description="say \\"no\\" \\\\ twice"',
    )
    expect(challenge?.params).toEqual({ realm: 'a, b=c', error_description: 'say "no" \\ twice' })
  })

  it('splits several challenges in one header value', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="files", Bearer realm="api", error="insufficient_scope", scope="a b"',
    )
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer'])
    expect(challenges[1]?.params).toEqual({ realm: 'api', error: 'insufficient_scope', scope: 'a b' })
  })

  it('joins several header lines', () => {
    const challenges = parseWwwAuthenticate(['Basic realm="x"', 'DPoP algs="ES256", error="invalid_token"'])
    expect(challenges.map((c) => [c.scheme, c.params])).toEqual([
      ['basic', { realm: 'x' }],
      ['dpop', { algs: 'ES256', error: 'invalid_token' }],
    ])
  })

  it('treats schemes and parameter names case-insensitively, values as sent', () => {
    expect(parseWwwAuthenticate('bEaReR ERROR="Invalid_Token"')).toEqual([
      { scheme: 'bearer', params: { error: 'Invalid_Token' } },
    ])
  })

  it('reads token68 challenges and bare schemes next to parameter challenges', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/9==, Bearer, Custom x= "y" ')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc+/9==' },
      { scheme: 'bearer', params: {} },
      { scheme: 'custom', params: { x: 'y' } },
    ])
  })

  it('keeps the first of duplicate parameters and never touches Object.prototype', () => {
    const [challenge] = parseWwwAuthenticate('Bearer error=a, error=b, __proto__=x, constructor=y')
    expect(challenge?.params['error']).toBe('a')
    expect(Object.getOwnPropertyDescriptor(challenge?.params, '__proto__')?.value).toBe('x')
    expect(({} as Record<string, unknown>)['x']).toBeUndefined()
  })

  it('returns no challenges for an absent or empty header and skips malformed parts without throwing', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([])
    expect(parseWwwAuthenticate(null)).toEqual([])
    expect(parseWwwAuthenticate(' , ,')).toEqual([])
    expect(() => parseWwwAuthenticate('Bearer realm="unterminated, error=x')).not.toThrow()
    expect(parseWwwAuthenticate('@@@, Bearer error="invalid_token"').at(-1)).toEqual({
      scheme: 'bearer',
      params: { error: 'invalid_token' },
    })
  })
})

describe('shouldReplay', () => {
  it('replays a 401 with or without a challenge', () => {
    expect(shouldReplay(401, undefined)).toBe(true)
    expect(shouldReplay(401, 'Bearer error="invalid_token"')).toBe(true)
    expect(shouldReplay(401, 'Bearer realm="api"')).toBe(true)
  })

  it('does not replay insufficient_scope, in any challenge, quoted or not', () => {
    expect(shouldReplay(401, 'Bearer error="insufficient_scope", scope="admin"')).toBe(false)
    expect(shouldReplay(401, 'Basic realm="x", Bearer error=insufficient_scope')).toBe(false)
    expect(shouldReplay(401, ['Basic realm="x"', 'Bearer error="insufficient_scope"'])).toBe(false)
  })

  it('does not replay anything but a 401', () => {
    for (const status of [200, 302, 400, 403, 500])
      expect(shouldReplay(status, 'Bearer error="invalid_token"')).toBe(false)
  })
})

describe('shouldAuthorize', () => {
  const url = (href: string) => new URL(href)

  it('authorizes every request when there is neither match nor base URL', () => {
    expect(shouldAuthorize(url('https://anything.example/x'))).toBe(true)
  })

  it('authorizes only the base URL origin by default when the client has one', () => {
    const base = 'https://api.example.com/v1/'
    expect(shouldAuthorize(url('https://api.example.com/other?q=1'), undefined, base)).toBe(true)
    expect(shouldAuthorize(url('https://storage.example.net/presigned'), undefined, base)).toBe(false)
    expect(shouldAuthorize(url('https://api.example.com:8443/x'), undefined, base)).toBe(false)
    expect(shouldAuthorize(url('http://api.example.com/x'), undefined, base)).toBe(false)
    expect(shouldAuthorize(url('https://api.example.com/x'), undefined, 'not a url')).toBe(false)
  })

  it('matches origin strings, RegExps and predicates, and match overrides the base URL', () => {
    const match = [
      'https://a.example',
      /^https:\/\/b\.example\/public\//g,
      (u: URL) => u.hostname === 'c.example',
    ]
    expect(shouldAuthorize(url('https://a.example/x'), match)).toBe(true)
    expect(shouldAuthorize(url('https://a.example:444/x'), match)).toBe(false)
    // a /g RegExp must not flip between calls
    for (let i = 0; i < 3; i++) expect(shouldAuthorize(url('https://b.example/public/1'), match)).toBe(true)
    expect(shouldAuthorize(url('https://b.example/private'), match)).toBe(false)
    expect(shouldAuthorize(url('http://c.example/'), match)).toBe(true)
    expect(shouldAuthorize(url('https://d.example/'), match, 'https://d.example')).toBe(false)
    expect(shouldAuthorize(url('https://a.example/'), 'https://a.example/', 'https://d.example')).toBe(true)
  })

  it('gives a predicate a copy of the URL it cannot change', () => {
    const target = url('https://a.example/x')
    shouldAuthorize(target, (u) => {
      u.hostname = 'evil.example'
      return true
    })
    expect(target.hostname).toBe('a.example')
  })

  it('rejects a match string that is not a bare origin, without echoing it', () => {
    for (const bad of [
      'https://a.example/path',
      'https://user:pw@a.example',
      'a.example',
      'ftp://a.example',
      'https://a.example?x',
    ]) {
      const error = (() => {
        try {
          shouldAuthorize(url('https://a.example'), bad)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).code).toBe('ERR_CONFIG')
      expect((error as Error).message).not.toContain('pw')
    }
    expect(() => shouldAuthorize(url('https://a.example'), 42 as never)).toThrow(ConfigError)
  })
})

describe('assertSecureTransport', () => {
  it('refuses plain http to a host that is not loopback, naming the origin only', () => {
    const error = (() => {
      try {
        assertSecureTransport(new URL('http://api.example.com/secret/path?key=123'))
      } catch (e) {
        return e as InsecureHttpError
      }
    })()
    expect(error).toBeInstanceOf(InsecureHttpError)
    expect(error?.code).toBe('ERR_INSECURE_HTTP')
    expect(error?.message).toMatch(
      /plain http to http:\/\/api\.example\.com: use https, or set allowInsecureHttp/,
    )
    expect(error?.message).not.toMatch(/secret|key=123/)
  })

  it('allows https, loopback http, and http when opted in', () => {
    for (const href of [
      'https://api.example.com',
      'http://127.0.0.1:8080',
      'http://localhost',
      'http://[::1]:3000',
    ]) {
      expect(() => assertSecureTransport(new URL(href))).not.toThrow()
    }
    expect(() => assertSecureTransport(new URL('http://api.example.com'), true)).not.toThrow()
  })
})

describe('isReplayableBody', () => {
  it('accepts bodies that can be sent twice', () => {
    for (const body of [
      undefined,
      null,
      'text',
      { json: true },
      [1, 2],
      new URLSearchParams('a=1'),
      new FormData(),
      new Blob(['x']),
      new ArrayBuffer(2),
      new Uint8Array(2),
    ]) {
      expect(isReplayableBody(body)).toBe(true)
    }
  })

  it('refuses streams, async iterables and generators', async () => {
    const { Readable } = await import('node:stream')
    async function* chunks() {
      yield 'a'
    }
    for (const body of [new ReadableStream(), Readable.from(['a']), chunks(), (function* () {})()]) {
      expect(isReplayableBody(body)).toBe(false)
    }
  })
})

describe('createAuthPolicy', () => {
  it('renews a token once however many requests report the same stale one', async () => {
    const { provider, hits } = countingProvider({ latency: 20 })
    const policy = createAuthPolicy(provider)
    const stale = await policy.tokenFor(new URL('https://api.test'))
    const renewed = await Promise.all(Array.from({ length: 50 }, () => policy.renew(stale)))
    expect(hits()).toBe(2)
    expect(new Set(renewed.map((t) => t.accessToken))).toEqual(new Set(['t2']))
    // a late report of the stale token does not drop the new one
    expect((await policy.renew(stale)).accessToken).toBe('t2')
    expect(hits()).toBe(2)
    expect(policy.header(renewed[0]!)).toBe('Bearer t2')
  })

  it('refuses insecure http before asking for a token', async () => {
    const { provider, hits } = countingProvider()
    const policy = createAuthPolicy(provider)
    await expect(policy.tokenFor(new URL('http://api.example.com/x'))).rejects.toBeInstanceOf(
      InsecureHttpError,
    )
    expect(hits()).toBe(0)
    const allowed = createAuthPolicy(provider, { allowInsecureHttp: true })
    expect((await allowed.tokenFor(new URL('http://api.example.com/x'))).accessToken).toBe('t1')
  })

  it('lets one caller abort its wait without cancelling the token request others await', async () => {
    const { provider, hits } = countingProvider({ latency: 50 })
    const policy = createAuthPolicy(provider)
    const controller = new AbortController()
    const aborted = policy.tokenFor(new URL('https://api.test'), { signal: controller.signal })
    const other = policy.tokenFor(new URL('https://api.test'))
    controller.abort(new Error('caller gave up'))
    await expect(aborted).rejects.toThrow('caller gave up')
    expect((await other).accessToken).toBe('t1')
    expect(hits()).toBe(1)
  })

  it('bounds the wait by the client timeout with TokenRequestError, and the token still arrives for others', async () => {
    const { provider, hits } = countingProvider({ latency: 80 })
    const policy = createAuthPolicy(provider)
    const waiting = policy.tokenFor(new URL('https://api.test'), { timeout: 10 })
    const patient = policy.tokenFor(new URL('https://api.test'), { timeout: 5_000 })
    const error = await waiting.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestError)
    expect((error as TokenRequestError).code).toBe('ERR_TOKEN_REQUEST')
    expect((error as Error).message).toContain('10 ms')
    expect((await patient).accessToken).toBe('t1')
    expect(hits()).toBe(1)
  })

  it('fails at once for a bad provider or match', () => {
    expect(() => createAuthPolicy({} as never)).toThrow(ConfigError)
    const { provider } = countingProvider()
    expect(() => createAuthPolicy(provider, { match: 'https://x.example/path' })).toThrow(ConfigError)
  })

  it('applies match and the base-URL default', () => {
    const { provider } = countingProvider()
    const byBase = createAuthPolicy(provider)
    expect(byBase.authorizes(new URL('https://api.test/a'), 'https://api.test/v1')).toBe(true)
    expect(byBase.authorizes(new URL('https://cdn.test/a'), 'https://api.test/v1')).toBe(false)
    const byMatch = createAuthPolicy(provider, { match: /cdn\.test/ })
    expect(byMatch.authorizes(new URL('https://cdn.test/a'), 'https://api.test/v1')).toBe(true)
  })

  it('keeps each base URL apart when it remembers their origins, and never authorizes an unparsable one', () => {
    const { provider } = countingProvider()
    const policy = createAuthPolicy(provider)
    for (let i = 0; i < 3; i++) {
      expect(policy.authorizes(new URL('https://api.test/a'), 'https://api.test/v1')).toBe(true)
      expect(policy.authorizes(new URL('https://api.test/a'), 'https://cdn.test/v1')).toBe(false)
      expect(policy.authorizes(new URL('https://cdn.test/a'), 'https://cdn.test/v1')).toBe(true)
      expect(policy.authorizes(new URL('https://api.test/a'), new URL('https://api.test:8443/'))).toBe(false)
      expect(policy.authorizes(new URL('https://api.test/a'), 'not a url')).toBe(false)
    }
    // more base URLs than it remembers: each still decides by its own origin
    for (let i = 0; i < 100; i++) {
      expect(policy.authorizes(new URL(`https://h${i}.test/x`), `https://h${i}.test/`)).toBe(true)
      expect(policy.authorizes(new URL(`https://h${i}.test/x`), `https://h${i + 1}.test/`)).toBe(false)
    }
  })

  it('resolves a relative base URL against the page on every call', () => {
    const { provider } = countingProvider()
    const policy = createAuthPolicy(provider)
    const global = globalThis as { location?: { href: string } }
    try {
      global.location = { href: 'https://app.test/page' }
      expect(policy.authorizes(new URL('https://app.test/api/x'), '/api')).toBe(true)
      global.location = { href: 'https://other.test/page' }
      expect(policy.authorizes(new URL('https://app.test/api/x'), '/api')).toBe(false)
      expect(policy.authorizes(new URL('https://other.test/api/x'), '/api')).toBe(true)
    } finally {
      delete global.location
    }
  })

  it('says whether it decides by origin alone: no match, or origin strings only', () => {
    const { provider } = countingProvider()
    expect(createAuthPolicy(provider).decidesByOrigin).toBe(true)
    expect(createAuthPolicy(provider, { match: 'https://a.test' }).decidesByOrigin).toBe(true)
    expect(createAuthPolicy(provider, { match: ['https://a.test', 'https://b.test'] }).decidesByOrigin).toBe(
      true,
    )
    expect(createAuthPolicy(provider, { match: /a\.test\/public/ }).decidesByOrigin).toBe(false)
    expect(createAuthPolicy(provider, { match: ['https://a.test', () => true] }).decidesByOrigin).toBe(false)
  })

  it('peekToken: the cached token at once, nothing before one is cached, and the insecure-http refusal', async () => {
    const { provider, hits } = countingProvider()
    const policy = createAuthPolicy(provider)
    const url = new URL('https://api.test/x')
    expect(policy.peekToken(url)).toBeUndefined()
    expect(hits()).toBe(0)
    const token = await policy.tokenFor(url)
    expect(policy.peekToken(url)).toBe(token)
    expect(() => policy.peekToken(new URL('http://api.example.com/x'))).toThrow(InsecureHttpError)
    expect(
      createAuthPolicy(provider, { allowInsecureHttp: true }).peekToken(new URL('http://api.example.com/x')),
    ).toBe(token)
    await policy.renew(token)
    expect(policy.peekToken(url)?.accessToken).toBe('t2')
    expect(hits()).toBe(2)
  })

  it('peekToken answers undefined for a provider without it, so the adapter waits for tokenFor', async () => {
    const { provider } = countingProvider()
    const { peekToken: _, ...older } = provider
    const policy = createAuthPolicy(older as TokenProvider)
    expect((await policy.tokenFor(new URL('https://api.test/'))).accessToken).toBe('t1')
    expect(policy.peekToken(new URL('https://api.test/'))).toBeUndefined()
  })

  it('wantsResponse only for a 401 to a Bearer request, and always for a DPoP-bound token', async () => {
    const { provider } = countingProvider()
    const policy = createAuthPolicy(provider)
    const bearer = await provider.getToken()
    expect(policy.wantsResponse(bearer, 401)).toBe(true)
    for (const status of [200, 204, 302, 403, 500]) expect(policy.wantsResponse(bearer, status)).toBe(false)
    const bound = createToken({ accessToken: 'b', tokenType: 'DPoP', raw: {} })
    for (const status of [200, 401, 500]) expect(policy.wantsResponse(bound, status)).toBe(true)
    // what it skips would have been 'none' anyway
    const headers = new Headers({ 'www-authenticate': 'Bearer error="invalid_token"' })
    expect(policy.afterResponse(bearer, { url: 'https://api.test/', status: 403, headers })).toBe('none')
    expect(policy.afterResponse(bearer, { url: 'https://api.test/', status: 401, headers })).toBe('renew')
  })
})
