import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { createTokenProvider, type TokenStore } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { mockAuthHandlers, mockProtectedApiHandlers, server } from '@tokenwell/mock-server/msw'
import { instrumentTokenProvider } from '@tokenwell/opentelemetry'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestSdk, total } from './otel-sdk.js'

const tokenEndpoint = 'https://as.test/token'
let sdk: ReturnType<typeof createTestSdk>
beforeEach(() => {
  sdk = createTestSdk()
})
afterEach(() => sdk.shutdown())

function setup(
  options: { store?: TokenStore; retry?: false; clock?: () => number; refreshSkew?: number } = {},
) {
  const auth = mockAuthHandlers({
    baseUrl: 'https://as.test',
    clients: [{ clientId: 'svc', clientSecret: 's3cret' }],
  })
  server.use(...auth)
  const inner = createTokenProvider({ tokenEndpoint, clientId: 'svc', clientSecret: 's3cret', ...options })
  const provider = instrumentTokenProvider(inner, {
    meterProvider: sdk.meterProvider,
    tracerProvider: sdk.tracerProvider,
    attributes: { 'service.component': 'orders' },
  })
  return { auth, provider }
}

describe('instrumentTokenProvider', () => {
  it('counts one token request, one span and ten cache misses for ten concurrent cold callers, then a hit', async () => {
    const { auth, provider } = setup()
    await Promise.all(Array.from({ length: 10 }, () => provider.getToken()))
    await provider.getToken()
    expect(auth.authServer.stats.tokenRequests).toBe(1)

    expect(
      total(await sdk.points('tokenwell.token.requests'), { 'tokenwell.token.outcome': 'success' }),
    ).toBe(1)
    expect(total(await sdk.points('tokenwell.token.request.duration'))).toBe(1)
    const lookups = await sdk.points('tokenwell.cache.lookups')
    expect(total(lookups, { 'tokenwell.cache.result': 'miss' })).toBe(10)
    expect(total(lookups, { 'tokenwell.cache.result': 'hit' })).toBe(1)

    const spans = sdk.spans()
    expect(spans.map((s) => s.name)).toEqual(['tokenwell.token.request'])
    expect(spans[0]!.kind).toBe(SpanKind.CLIENT)
    expect(spans[0]!.attributes).toMatchObject({
      'oauth.grant_type': 'client_credentials',
      'oauth.client_id': 'svc',
      'server.address': 'as.test',
      'server.port': 443,
      'url.full': tokenEndpoint,
      'tokenwell.token.outcome': 'success',
      'tokenwell.token.background': false,
      'service.component': 'orders',
    })
    await provider.close()
  })

  it('shows a retried attempt as a failed request and as an event of the one span, and a final failure as an error span', async () => {
    const { auth, provider } = setup()
    auth.authServer.failNext(1, { status: 503, headers: { 'retry-after': '0' } })
    const token = await provider.getToken()
    const [span] = sdk.spans()
    expect(span!.events.map((e) => [e.name, e.attributes?.['error.type']])).toEqual([
      ['tokenwell.token.attempt_failed', 'ERR_OAUTH'],
    ])
    const requests = await sdk.points('tokenwell.token.requests')
    expect(
      total(requests, { 'tokenwell.token.outcome': 'failure', 'tokenwell.token.will_retry': true }),
    ).toBe(1)
    expect(total(requests, { 'tokenwell.token.outcome': 'success' })).toBe(1)

    await provider.invalidate(token) // else the refresh's failure would be served the cached token
    auth.authServer.failNext(1, { status: 401, error: 'invalid_client' })
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH' })
    const failed = sdk.spans()[1]!
    expect(failed.status.code).toBe(SpanStatusCode.ERROR)
    expect(failed.attributes).toMatchObject({
      'tokenwell.token.outcome': 'failure',
      'error.type': 'ERR_OAUTH',
      'oauth.error': 'invalid_client',
      'http.response.status_code': 401,
    })
    const duration = await sdk.points('tokenwell.token.request.duration')
    expect(total(duration, { 'error.type': 'ERR_OAUTH' })).toBe(1)
    await provider.close()
  })

  it('counts each invalidate() after a 401 that an adapter replays, and whether it dropped the token', async () => {
    const { auth, provider } = setup()
    const api = mockProtectedApiHandlers({ baseUrl: 'https://api.test', authServer: auth.authServer })
    server.use(...api)
    const authFetch = withOAuth2(provider)
    expect((await authFetch('https://api.test/echo')).status).toBe(200)
    auth.authServer.revokeAll()
    expect((await authFetch('https://api.test/echo')).status).toBe(200)
    expect(api.api.stats.unauthorized).toBe(1)
    const invalidations = await sdk.points('tokenwell.token.invalidations')
    expect(total(invalidations)).toBe(1)
    expect(total(invalidations, { 'tokenwell.invalidation.dropped': true })).toBe(1)
    expect(auth.authServer.stats.tokenRequests).toBe(2)
    await provider.close()
  })

  it('counts a background refresh ahead of expiry, with background: true on its span', async () => {
    let now = Date.now()
    const { auth, provider } = setup({ clock: () => now, refreshSkew: 0 })
    const first = await provider.getToken()
    now += 290_000 // past the refresh-ahead point (80–90% of 300 s), before expiry
    const refreshed = new Promise((resolve) => provider.on('token', resolve))
    expect(provider.peekToken()).toBe(first) // the caller keeps the current token
    await refreshed
    expect(auth.authServer.stats.tokenRequests).toBe(2)
    expect(total(await sdk.points('tokenwell.token.background_refreshes'))).toBe(1)
    expect(sdk.spans().map((s) => s.attributes['tokenwell.token.background'])).toEqual([false, true])
    await provider.close()
  })

  it('counts store errors by operation; the request still succeeds', async () => {
    const broken = new Error('store down')
    const store: TokenStore = {
      get: () => Promise.reject(broken),
      set: () => Promise.reject(broken),
      delete: () => Promise.reject(broken),
    }
    const { provider } = setup({ store })
    await provider.getToken()
    const errors = await sdk.points('tokenwell.store.errors')
    expect(total(errors, { 'tokenwell.store.operation': 'get' })).toBe(1)
    expect(total(errors, { 'tokenwell.store.operation': 'set' })).toBe(1)
    expect(errors[0]!.attributes['error.type']).toBe('Error')
    await provider.close()
  })

  it('stops recording after uninstrument(); the provider keeps working', async () => {
    const { provider } = setup()
    provider.uninstrument()
    await provider.getToken()
    expect(sdk.spans()).toEqual([])
    expect(await sdk.points('tokenwell.cache.lookups')).toEqual([])
    await provider.close()
  })

  it.each([
    ['a scope', { scope: 'admin' }],
    ['claims', { claims: '{"id_token":{"acr":{"essential":true}}}' }],
  ])(
    'a getToken() for %s is never answered with the cached token of the configured scope',
    async (_, call) => {
      const asked: (string | null)[] = []
      const inner = createTokenProvider({
        tokenEndpoint,
        clientId: 'svc',
        clientSecret: 's3cret',
        fetch: async (request) => {
          const form = new URLSearchParams(await request.text())
          asked.push(form.get('scope') ?? form.get('claims'))
          return Response.json({ access_token: `t${asked.length}`, token_type: 'Bearer', expires_in: 300 })
        },
      })
      const provider = instrumentTokenProvider(inner, { tracerProvider: sdk.tracerProvider })
      expect((await provider.getToken()).accessToken).toBe('t1')
      // a step-up or claims challenge's replay asks for this: the cached t1 would be refused again
      expect((await provider.getToken(call)).accessToken).toBe('t2')
      expect(asked).toEqual([null, Object.values(call)[0]])
      await inner.close()
    },
  )

  it('rejects what is not a provider with a ConfigError', () => {
    expect(() => instrumentTokenProvider({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG' }),
    )
  })
})
