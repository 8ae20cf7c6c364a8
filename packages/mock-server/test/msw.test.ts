import { createTokenProvider } from '@tokenwell/core'
import { mockAuthHandlers, mockProtectedApiHandlers, server } from '@tokenwell/mock-server/msw'
import { describe, expect, it } from 'vitest'

describe('msw handlers', () => {
  it('serve the authorization server in process, for core’s token provider', async () => {
    const auth = mockAuthHandlers({
      baseUrl: 'https://as.test',
      clients: [{ clientId: 'svc', clientSecret: 'p@ss word:1' }],
    })
    server.use(...auth)
    const provider = createTokenProvider({
      tokenEndpoint: 'https://as.test/token',
      clientId: 'svc',
      clientSecret: 'p@ss word:1',
    })
    const tokens = await Promise.all(Array.from({ length: 10 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(auth.authServer.stats.tokenRequests).toBe(1)
    expect(auth.authServer.requests[0]).toMatchObject({ clientAuth: 'client_secret_basic', status: 200 })
    expect(await auth.authServer.verifyAccessToken(tokens[0]!.accessToken)).toMatchObject({ sub: 'svc' })
    await provider.close()
  })

  it('work with client_secret_post and turn an injected fault into core’s OAuthError', async () => {
    const auth = mockAuthHandlers({ baseUrl: 'https://as.test' })
    server.use(...auth)
    auth.authServer.failNext(1, { status: 400, error: 'invalid_scope' })
    const provider = createTokenProvider({
      tokenEndpoint: 'https://as.test/token',
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      clientAuth: 'client_secret_post',
      retry: false,
      failureCooldown: 0,
    })
    await expect(provider.getToken()).rejects.toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_scope',
      status: 400,
    })
    expect((await provider.getToken()).accessToken).toEqual(expect.any(String))
    expect(auth.authServer.requests.map((r) => r.clientAuth)).toEqual([
      'client_secret_post',
      'client_secret_post',
    ])
    await provider.close()
  })

  it('serve the protected API next to it', async () => {
    const auth = mockAuthHandlers({ baseUrl: 'https://as.test' })
    const api = mockProtectedApiHandlers({ baseUrl: 'https://api.test', authServer: auth.authServer })
    server.use(...auth, ...api)
    const { access_token } = (await (
      await fetch('https://as.test/token', {
        method: 'POST',
        headers: { authorization: `Basic ${btoa('demo-client:demo-secret')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      })
    ).json()) as { access_token: string }
    const ok = await fetch('https://api.test/echo', { headers: { authorization: `Bearer ${access_token}` } })
    expect(ok.status).toBe(200)
    const denied = await fetch('https://api.test/echo')
    expect(denied.status).toBe(401)
    expect(api.api.stats).toMatchObject({ requests: 2, unauthorized: 1 })
  })

  it('turn a networkError fault into a failed fetch', async () => {
    const auth = mockAuthHandlers({ baseUrl: 'https://as.test' })
    server.use(...auth)
    auth.authServer.failNext(1, { networkError: true })
    await expect(fetch('https://as.test/token', { method: 'POST' })).rejects.toThrow()
  })
})
