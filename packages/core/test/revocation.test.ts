import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { discovery } from '../src/discovery/index.js'
import {
  ConfigError,
  createMemoryTokenStore,
  createTokenProvider,
  OAuthError,
  type TokenProviderOptions,
  TokenResponseError,
  type TokenwellError,
} from '../src/index.js'
import { revocation } from '../src/revocation/index.js'

const tokenEndpoint = 'https://as.test/token'
const revocationEndpoint = 'https://as.test/revoke'

function serve(revoke: (form: URLSearchParams) => Response = () => new HttpResponse(null, { status: 200 })) {
  const hits = { token: 0, revoke: 0, revoked: [] as URLSearchParams[], headers: [] as Headers[] }
  server.use(
    http.post(tokenEndpoint, () => {
      hits.token++
      return HttpResponse.json({
        access_token: `at-${hits.token}`,
        refresh_token: `rt-${hits.token}`,
        token_type: 'Bearer',
        expires_in: 300,
      })
    }),
    http.post(revocationEndpoint, async ({ request }) => {
      hits.revoke++
      const form = new URLSearchParams(await request.text())
      hits.revoked.push(form)
      hits.headers.push(request.headers)
      return revoke(form)
    }),
  )
  return hits
}

const provider = (extra: Partial<TokenProviderOptions> = {}) =>
  createTokenProvider({
    revocation,
    tokenEndpoint,
    revocationEndpoint,
    clientId: 'c',
    clientSecret: 's',
    scope: 'read',
    resource: 'https://api.test',
    retry: false,
    ...extra,
  })

describe('provider.revoke() (RFC 7009)', () => {
  it('revokes the refresh token, then the access token, with client authentication; then fetches anew', async () => {
    const hits = serve()
    const store = createMemoryTokenStore()
    const p = provider({ store })
    await p.getToken()
    expect(await p.revoke()).toEqual({ refreshToken: true, accessToken: true })
    expect(hits.revoked.map((form) => Object.fromEntries(form))).toEqual([
      { token: 'rt-1', token_type_hint: 'refresh_token' },
      { token: 'at-1', token_type_hint: 'access_token' },
    ])
    expect(hits.headers.every((h) => h.get('authorization') === `Basic ${btoa('c:s')}`)).toBe(true)
    expect(p.peekToken()).toBeUndefined()
    expect((await p.getToken()).accessToken).toBe('at-2')
    expect(hits.token).toBe(2)
    // a second provider on the same store does not find the revoked token either
    const hitsBefore = hits.token
    await p.revoke()
    const sibling = provider({ store })
    expect((await sibling.getToken()).accessToken).toBe(`at-${hitsBefore + 1}`)
  })

  it('forgets the tokens of getToken({ scope }) too: the next such call asks anew', async () => {
    const hits = serve()
    const p = provider()
    await p.getToken()
    expect((await p.getToken({ scope: 'admin' })).accessToken).toBe('at-2')
    await p.revoke()
    expect((await p.getToken({ scope: 'admin' })).accessToken).toBe('at-3')
    expect(hits.token).toBe(3)
  })

  it('sends client_id and client_secret in the body with client_secret_post', async () => {
    const hits = serve()
    const p = provider({ clientAuth: 'client_secret_post' })
    await p.getToken()
    await p.revoke()
    expect(Object.fromEntries(hits.revoked[0]!)).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
      client_id: 'c',
      client_secret: 's',
    })
  })

  it('uses the discovered revocation_endpoint', async () => {
    const hits = serve()
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        HttpResponse.json({
          issuer: 'https://as.test',
          token_endpoint: tokenEndpoint,
          revocation_endpoint: revocationEndpoint,
        }),
      ),
    )
    const p = createTokenProvider({
      revocation,
      discovery,
      issuer: 'https://as.test',
      clientId: 'c',
      clientSecret: 's',
    })
    await p.getToken()
    await p.revoke()
    expect(hits.revoke).toBe(2)
  })

  it('without the revocation plug-in, revoke() is a ConfigError naming its entry, and nothing is sent or forgotten', async () => {
    const hits = serve()
    const p = createTokenProvider({ tokenEndpoint, revocationEndpoint, clientId: 'c', clientSecret: 's' })
    const token = await p.getToken()
    const error = (await p.revoke().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toMatch(/revocation from @tokenwell\/core\/revocation/)
    expect(hits.revoke).toBe(0)
    expect(p.peekToken()).toBe(token)
    expect(() =>
      createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', revocation: {} as never }),
    ).toThrow(ConfigError)
  })

  it('fails with ConfigError when no revocation endpoint is known, keeping the token', async () => {
    const hits = serve()
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        HttpResponse.json({ issuer: 'https://as.test', token_endpoint: tokenEndpoint }),
      ),
    )
    const p = createTokenProvider({
      revocation,
      discovery,
      issuer: 'https://as.test',
      clientId: 'c',
      clientSecret: 's',
    })
    const token = await p.getToken()
    const error = (await p.revoke().catch((e: unknown) => e)) as TokenwellError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.code).toBe('ERR_CONFIG')
    expect(hits.revoke).toBe(0)
    expect(p.peekToken()).toBe(token)
  })

  it('reports an OAuth error body as OAuthError without naming the token, and keeps the tokens for a retry', async () => {
    let fail = true
    const hits = serve(() =>
      fail
        ? HttpResponse.json({ error: 'invalid_client', error_description: 'bad' }, { status: 401 })
        : new HttpResponse(null, { status: 200 }),
    )
    const p = provider()
    const token = await p.getToken()
    const error = (await p.revoke().catch((e: unknown) => e)) as OAuthError
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client', status: 401 })
    const shown = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`
    expect(shown).not.toContain('rt-1')
    expect(shown).not.toContain('at-1')
    expect(p.peekToken()).toBe(token)
    fail = false
    expect(await p.revoke()).toEqual({ refreshToken: true, accessToken: true })
    expect(hits.revoked.map((form) => form.get('token'))).toEqual(['rt-1', 'rt-1', 'at-1'])
  })

  it('scrubs the token and the client secret from whatever the revocation endpoint echoes', async () => {
    serve((form) =>
      HttpResponse.json(
        {
          error: 'invalid_request',
          error_description: `bad token ${form.get('token')} for client c:s3cret-value`,
        },
        { status: 400 },
      ),
    )
    const p = provider({ clientSecret: 's3cret-value' })
    await p.getToken()
    const error = (await p.revoke().catch((e: unknown) => e)) as OAuthError
    expect(error).toBeInstanceOf(OAuthError)
    const shown = `${error.message} ${error.errorDescription} ${JSON.stringify(error)} ${String(error.stack)}`
    expect(shown).not.toContain('rt-1')
    expect(shown).not.toContain('s3cret-value')
  })

  it('accepts unsupported_token_type for the access token (the server revokes refresh tokens only)', async () => {
    serve((form) =>
      form.get('token_type_hint') === 'access_token'
        ? HttpResponse.json({ error: 'unsupported_token_type' }, { status: 400 })
        : new HttpResponse(null, { status: 200 }),
    )
    const p = provider()
    await p.getToken()
    expect(await p.revoke()).toEqual({ refreshToken: true, accessToken: false })
  })

  it('reports an error page as TokenResponseError', async () => {
    serve(
      () => new HttpResponse('<html>oops</html>', { status: 500, headers: { 'content-type': 'text/html' } }),
    )
    const p = provider()
    await p.getToken()
    await expect(p.revoke()).rejects.toBeInstanceOf(TokenResponseError)
  })

  it('sends nothing when there is nothing to revoke, and revokes a configured refresh token before any use', async () => {
    const hits = serve()
    expect(await provider().revoke()).toEqual({ refreshToken: false, accessToken: false })
    expect(hits.revoke).toBe(0)
    const p = provider({ grant: { type: 'refresh_token', refreshToken: 'configured-rt' } })
    expect(await p.revoke()).toEqual({ refreshToken: true, accessToken: false })
    expect(hits.revoked[0]!.get('token')).toBe('configured-rt')
    expect(hits.token).toBe(0)
  })

  it('revokes a given token instead of its own, forgetting its own only when it is the one given', async () => {
    const hits = serve()
    const p = provider()
    const token = await p.getToken()
    expect(await p.revoke({ token: 'other-rt', tokenTypeHint: 'refresh_token' })).toEqual({
      refreshToken: true,
      accessToken: false,
    })
    expect(Object.fromEntries(hits.revoked[0]!)).toEqual({
      token: 'other-rt',
      token_type_hint: 'refresh_token',
    })
    expect(p.peekToken()).toBe(token)
    expect(await p.revoke({ token: token.accessToken })).toEqual({ refreshToken: false, accessToken: true })
    expect(hits.revoked[1]!.get('token_type_hint')).toBe('access_token')
    expect(p.peekToken()).toBeUndefined()
    await expect(p.revoke({ token: '' })).rejects.toBeInstanceOf(ConfigError)
    await expect(p.revoke({ token: 'x', tokenTypeHint: 'id_token' as never })).rejects.toBeInstanceOf(
      ConfigError,
    )
    expect(hits.revoke).toBe(2)
  })

  it('refuses a plain-http revocationEndpoint off loopback at once', () => {
    expect(() => provider({ revocationEndpoint: 'http://as.example/revoke' })).toThrow(
      /revocationEndpoint must be https/,
    )
  })
})
