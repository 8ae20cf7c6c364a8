import { describe, expect, it, vi } from 'vitest'
import { createMockAuthServer } from '../src/index.js'
import { basic, demoBasic, postToken } from './helpers.js'

const issuer = 'https://as.test'

describe('token endpoint: grants', () => {
  it('issues a signed access token for client_credentials with client_secret_basic', async () => {
    const auth = createMockAuthServer({ issuer })
    const { status, headers, body } = await postToken(
      auth,
      { grant_type: 'client_credentials', scope: 'read' },
      demoBasic,
    )
    expect(status).toBe(200)
    expect(headers.get('cache-control')).toBe('no-store')
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'read' })
    expect(body.refresh_token).toBeUndefined() // RFC 6749 §4.4.3
    const claims = await auth.verifyAccessToken(body.access_token as string)
    expect(claims).toMatchObject({ iss: issuer, sub: 'demo-client', client_id: 'demo-client', scope: 'read' })
    expect(claims!.exp - claims!.iat).toBe(300)
  })

  it('accepts client_secret_post', async () => {
    const auth = createMockAuthServer({ issuer })
    const { status, body } = await postToken(auth, {
      grant_type: 'client_credentials',
      client_id: 'demo-client',
      client_secret: 'demo-secret',
    })
    expect(status).toBe(200)
    expect(typeof body.access_token).toBe('string')
    expect(auth.requests[0]).toMatchObject({ clientAuth: 'client_secret_post', clientId: 'demo-client' })
  })

  it('decodes Basic credentials as form-urlencoded (RFC 6749 §2.3.1), so odd secrets work', async () => {
    const secret = 'p@ss:w rd+%é/ü'
    const auth = createMockAuthServer({ issuer, clients: [{ clientId: 'svc:a b', clientSecret: secret }] })
    const ok = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { authorization: basic('svc:a b', secret) },
    )
    expect(ok.status).toBe(200)
    // the same secret without the form encoding is wrong: "+" would decode to a space
    const raw = `Basic ${Buffer.from(`svc%3Aa+b:${secret}`).toString('base64')}`
    const bad = await postToken(auth, { grant_type: 'client_credentials' }, { authorization: raw })
    expect(bad.status).toBe(401)
  })

  it('lets a public client authenticate with none (client_id only)', async () => {
    const auth = createMockAuthServer({ issuer, clients: [{ clientId: 'spa' }] })
    const { status } = await postToken(auth, { grant_type: 'client_credentials', client_id: 'spa' })
    expect(status).toBe(200)
    expect(auth.requests[0]!.clientAuth).toBe('none')
  })

  it('issues tokens and a refresh token for the password grant', async () => {
    const auth = createMockAuthServer({ issuer })
    const { status, body } = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    expect(status).toBe(200)
    expect(typeof body.refresh_token).toBe('string')
    expect(await auth.verifyAccessToken(body.access_token as string)).toMatchObject({
      sub: 'alice',
      username: 'alice',
    })
  })

  it('rejects a wrong password with invalid_grant', async () => {
    const auth = createMockAuthServer({ issuer })
    const { status, body } = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'nope' },
      demoBasic,
    )
    expect(status).toBe(400)
    expect(body.error).toBe('invalid_grant')
  })

  it('rotates refresh tokens and fails a replayed one with invalid_grant, revoking its family', async () => {
    const auth = createMockAuthServer({ issuer })
    const first = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    const rt1 = first.body.refresh_token as string
    const second = await postToken(auth, { grant_type: 'refresh_token', refresh_token: rt1 }, demoBasic)
    expect(second.status).toBe(200)
    const rt2 = second.body.refresh_token as string
    expect(rt2).toEqual(expect.any(String))
    expect(rt2).not.toBe(rt1)
    expect(await auth.verifyAccessToken(second.body.access_token as string)).toMatchObject({ sub: 'alice' })

    const replay = await postToken(auth, { grant_type: 'refresh_token', refresh_token: rt1 }, demoBasic)
    expect(replay.status).toBe(400)
    expect(replay.body.error).toBe('invalid_grant')
    // reuse detection (RFC 9700 §4.14.2): the descendant dies too
    const afterReuse = await postToken(auth, { grant_type: 'refresh_token', refresh_token: rt2 }, demoBasic)
    expect(afterReuse.body.error).toBe('invalid_grant')
  })

  it('can keep the family alive on reuse, and can leave refresh tokens unrotated', async () => {
    const lenient = createMockAuthServer({ issuer, revokeRefreshTokenFamilyOnReuse: false })
    const first = await postToken(
      lenient,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    const second = await postToken(
      lenient,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      demoBasic,
    )
    await postToken(
      lenient,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      demoBasic,
    )
    const third = await postToken(
      lenient,
      { grant_type: 'refresh_token', refresh_token: second.body.refresh_token as string },
      demoBasic,
    )
    expect(third.status).toBe(200)

    const fixed = createMockAuthServer({ issuer, rotateRefreshTokens: false })
    const got = await postToken(
      fixed,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    const rt = got.body.refresh_token as string
    for (let i = 0; i < 3; i++) {
      const refreshed = await postToken(fixed, { grant_type: 'refresh_token', refresh_token: rt }, demoBasic)
      expect(refreshed.status).toBe(200)
      expect(refreshed.body.refresh_token).toBeUndefined()
    }
  })

  it('refuses a refresh token issued to another client', async () => {
    const auth = createMockAuthServer({
      issuer,
      clients: [
        { clientId: 'a', clientSecret: 'sa' },
        { clientId: 'b', clientSecret: 'sb' },
      ],
    })
    const got = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      { authorization: basic('a', 'sa') },
    )
    const other = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: got.body.refresh_token as string },
      { authorization: basic('b', 'sb') },
    )
    expect(other.body.error).toBe('invalid_grant')
  })

  it('narrows scope on refresh but never widens it (RFC 6749 §6)', async () => {
    const auth = createMockAuthServer({ issuer })
    const got = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password', scope: 'a b' },
      demoBasic,
    )
    const narrowed = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: got.body.refresh_token as string, scope: 'a' },
      demoBasic,
    )
    expect(narrowed.body.scope).toBe('a')
    const widened = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token as string, scope: 'a c' },
      demoBasic,
    )
    expect(widened.body.error).toBe('invalid_scope')
    // the rotated refresh token keeps the scope originally granted, not the narrowed one
    const back = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token as string, scope: 'b' },
      demoBasic,
    )
    expect(back.body.scope).toBe('b')
    const whole = await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: back.body.refresh_token as string },
      demoBasic,
    )
    expect(whole.body.scope).toBe('a b')
  })

  it('puts audience/resource parameters into aud, and the configured audience otherwise', async () => {
    const auth = createMockAuthServer({ issuer, audience: 'https://default.test' })
    const plain = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    expect((await auth.verifyAccessToken(plain.body.access_token as string))!.aud).toBe(
      'https://default.test',
    )
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    form.append('resource', 'https://r1.test')
    form.append('resource', 'https://r2.test')
    const multi = await auth.handle(
      new Request(auth.tokenEndpoint, { method: 'POST', headers: demoBasic, body: form }),
    )
    const body = (await multi.json()) as { access_token: string }
    expect((await auth.verifyAccessToken(body.access_token))!.aud).toEqual([
      'https://r1.test',
      'https://r2.test',
    ])
  })
})

describe('token endpoint: RFC 6749 §5.2 errors', () => {
  const cases: [string, Record<string, string>, Record<string, string>, number, string][] = [
    [
      'an unknown client',
      { grant_type: 'client_credentials' },
      { authorization: basic('nobody', 'x') },
      401,
      'invalid_client',
    ],
    [
      'a bad secret (basic)',
      { grant_type: 'client_credentials' },
      { authorization: basic('demo-client', 'wrong') },
      401,
      'invalid_client',
    ],
    [
      'a bad secret (post)',
      { grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'wrong' },
      {},
      401,
      'invalid_client',
    ],
    ['no client authentication', { grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
    [
      'a confidential client without its secret',
      { grant_type: 'client_credentials', client_id: 'demo-client' },
      {},
      401,
      'invalid_client',
    ],
    [
      'malformed Basic credentials',
      { grant_type: 'client_credentials' },
      { authorization: 'Basic !!!' },
      401,
      'invalid_client',
    ],
    [
      'two authentication methods',
      { grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'demo-secret' },
      demoBasic,
      400,
      'invalid_request',
    ],
    ['a missing grant_type', {}, demoBasic, 400, 'invalid_request'],
    [
      'an unsupported grant_type',
      { grant_type: 'urn:example:magic' },
      demoBasic,
      400,
      'unsupported_grant_type',
    ],
    [
      'a password grant without password',
      { grant_type: 'password', username: 'alice' },
      demoBasic,
      400,
      'invalid_request',
    ],
    [
      'a refresh grant without refresh_token',
      { grant_type: 'refresh_token' },
      demoBasic,
      400,
      'invalid_request',
    ],
    [
      'an unknown refresh token',
      { grant_type: 'refresh_token', refresh_token: 'nope' },
      demoBasic,
      400,
      'invalid_grant',
    ],
    [
      'an authorization_code grant without code',
      { grant_type: 'authorization_code' },
      demoBasic,
      400,
      'invalid_request',
    ],
  ]
  it.each(cases)(
    'answers %s with the right status and error',
    async (_name, params, headers, status, error) => {
      const auth = createMockAuthServer({ issuer })
      const response = await postToken(auth, params, headers)
      expect(response.status).toBe(status)
      expect(response.body.error).toBe(error)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('content-type')).toBe('application/json')
      if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    },
  )

  it('answers a scope outside the configured ones with invalid_scope', async () => {
    const auth = createMockAuthServer({ issuer, scopes: ['read'] })
    expect(
      (await postToken(auth, { grant_type: 'client_credentials', scope: 'read' }, demoBasic)).status,
    ).toBe(200)
    const bad = await postToken(auth, { grant_type: 'client_credentials', scope: 'read admin' }, demoBasic)
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_scope'])
  })

  it('answers a grant the client may not use with unauthorized_client', async () => {
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'c', clientSecret: 's', grantTypes: ['password'] }],
    })
    const res = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { authorization: basic('c', 's') },
    )
    expect([res.status, res.body.error]).toEqual([400, 'unauthorized_client'])
  })

  it('answers an auth method the client may not use with invalid_client', async () => {
    const auth = createMockAuthServer({
      issuer,
      clients: [{ clientId: 'c', clientSecret: 's', authMethods: ['client_secret_post'] }],
    })
    const res = await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { authorization: basic('c', 's') },
    )
    expect([res.status, res.body.error]).toEqual([401, 'invalid_client'])
  })

  it('refuses a repeated parameter and a non-form body with invalid_request', async () => {
    const auth = createMockAuthServer({ issuer })
    const twice = await auth.handle(
      new Request(auth.tokenEndpoint, {
        method: 'POST',
        headers: { ...demoBasic, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=a&scope=b',
      }),
    )
    expect([twice.status, ((await twice.json()) as { error: string }).error]).toEqual([
      400,
      'invalid_request',
    ])
    const json = await auth.handle(
      new Request(auth.tokenEndpoint, {
        method: 'POST',
        headers: { ...demoBasic, 'content-type': 'application/json' },
        body: '{"grant_type":"client_credentials"}',
      }),
    )
    expect(json.status).toBe(400)
  })

  it('answers GET on the token endpoint with 405 and Allow: POST', async () => {
    const auth = createMockAuthServer({ issuer })
    const res = await auth.handle(new Request(auth.tokenEndpoint))
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    expect(auth.stats.tokenRequests).toBe(0)
  })
})

describe('stats, log and faults', () => {
  it('counts token requests by grant and client, and resets', async () => {
    const auth = createMockAuthServer({ issuer })
    expect(auth.stats.byGrant['client_credentials']).toBe(0)
    expect(auth.stats.byClient['demo-client']).toBe(0)
    await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    await postToken(
      auth,
      { grant_type: 'client_credentials' },
      { authorization: basic('demo-client', 'bad') },
    )
    expect(auth.stats).toMatchObject({ tokenRequests: 3, tokensIssued: 2 })
    expect(auth.stats.byGrant).toMatchObject({ client_credentials: 2, password: 1, refresh_token: 0 })
    expect(auth.stats.byClient['demo-client']).toBe(3)
    expect(auth.stats.byError['invalid_client']).toBe(1)
    expect(auth.requests.map((r) => r.status)).toEqual([200, 200, 401])
    auth.stats.reset()
    expect(auth.stats).toMatchObject({ tokenRequests: 0, tokensIssued: 0 })
    expect(auth.stats.byGrant['client_credentials']).toBe(0)
    expect(auth.requests).toHaveLength(0)
  })

  it('a request that arrived before reset() counts in none of the stats when it ends after (a reuse included)', async () => {
    const auth = createMockAuthServer({ issuer })
    const first = await postToken(
      auth,
      { grant_type: 'password', username: 'alice', password: 'alice-password' },
      demoBasic,
    )
    const refresh = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }
    await postToken(auth, refresh, demoBasic) // spends it
    auth.setLatency(50)
    const late = [
      postToken(auth, { grant_type: 'client_credentials' }, demoBasic),
      postToken(auth, refresh, demoBasic),
    ]
    await new Promise((resolve) => setTimeout(resolve, 10))
    auth.stats.reset() // both still on their way
    expect((await Promise.all(late)).map((answer) => answer.status)).toEqual([200, 400])
    expect(auth.stats).toMatchObject({ tokenRequests: 0, tokensIssued: 0, refreshTokenReuse: 0, byError: {} })
    expect(auth.requests).toHaveLength(0)
    // one that arrives after it counts
    await postToken(auth, refresh, demoBasic)
    expect(auth.stats).toMatchObject({ tokenRequests: 1, tokensIssued: 0, refreshTokenReuse: 1 })
  })

  it('never keeps a secret in the request log', async () => {
    const secrets = ['demo-secret', 'alice-password']
    const auth = createMockAuthServer({ issuer })
    const got = await postToken(auth, {
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      client_id: 'demo-client',
      client_secret: 'demo-secret',
    })
    secrets.push(got.body.refresh_token as string, got.body.access_token as string)
    await postToken(
      auth,
      { grant_type: 'refresh_token', refresh_token: got.body.refresh_token as string },
      demoBasic,
    )
    const text = JSON.stringify(auth.requests) + JSON.stringify(auth.stats)
    for (const secret of secrets) expect(text).not.toContain(secret)
    expect(auth.requests[0]!.params).toMatchObject({
      password: '[REDACTED]',
      client_secret: '[REDACTED]',
      username: 'alice',
    })
  })

  it('fails the next N token requests as asked, then recovers', async () => {
    const auth = createMockAuthServer({ issuer })
    auth.failNext(2, { status: 503, headers: { 'retry-after': '1' } })
    auth.failNext(1, { status: 400, error: 'invalid_scope', errorDescription: 'nope' })
    const first = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    expect([first.status, first.body.error, first.headers.get('retry-after')]).toEqual([
      503,
      'temporarily_unavailable',
      '1',
    ])
    expect((await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)).status).toBe(503)
    const third = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    expect(third.body).toEqual({ error: 'invalid_scope', error_description: 'nope' })
    expect((await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)).status).toBe(200)
    expect(auth.stats).toMatchObject({ tokenRequests: 4, tokensIssued: 1 })
  })

  it('can answer with a raw body, a malformed body, or a network error', async () => {
    const auth = createMockAuthServer({ issuer })
    const post = () =>
      auth.handle(
        new Request(auth.tokenEndpoint, {
          method: 'POST',
          headers: demoBasic,
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
        }),
      )
    auth.failNext(1, {
      status: 502,
      body: '<html>Bad Gateway</html>',
      headers: { 'content-type': 'text/html' },
    })
    auth.failNext(1, { malformed: true })
    auth.failNext(1, { networkError: true })
    const html = await post()
    expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([
      502,
      'text/html',
      '<html>Bad Gateway</html>',
    ])
    const malformed = await post()
    expect(malformed.status).toBe(200)
    await expect(malformed.json()).rejects.toThrow()
    expect((await post()).type).toBe('error')
  })

  it('delays token responses by the latency set', async () => {
    vi.useFakeTimers()
    try {
      const auth = createMockAuthServer({ issuer })
      auth.setLatency(1_000)
      let done = false
      const pending = postToken(auth, { grant_type: 'client_credentials' }, demoBasic).then((r) => {
        done = true
        return r
      })
      await vi.advanceTimersByTimeAsync(999)
      expect(done).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      expect((await pending).status).toBe(200)
    } finally {
      vi.useRealTimers()
    }
  })

  it('changes the token lifetime of later tokens', async () => {
    const auth = createMockAuthServer({ issuer })
    auth.setTokenLifetime(5)
    const { body } = await postToken(auth, { grant_type: 'client_credentials' }, demoBasic)
    expect(body.expires_in).toBe(5)
  })
})
