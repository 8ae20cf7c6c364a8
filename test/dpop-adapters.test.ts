import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { createDpop } from '@tokenwell/core/dpop'
import { withOAuth2 } from '@tokenwell/fetch'
import { startMockAuthServer, startProtectedApi } from '@tokenwell/mock-server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Client, expectedBytes, harnesses } from './support/adapters.js'
import { useMockServers } from './support/servers.js'

// DPoP on API requests (RFC 9449 §7, §9) through each adapter, over real loopback HTTP: the
// protected API verifies every proof (htm, htu, iat, jti, ath, cnf.jkt) and counts requests.
const servers = useMockServers({
  api: {},
  /** An API that demands its DPoP nonce (401 use_dpop_nonce + DPoP-Nonce) before anything else. */
  nonceApi: { dpopNonce: true },
  /** Another origin: a redirect target that logs whether a token or a proof reached it. */
  other: {},
})

const client = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  retry: false,
  failureCooldown: 0,
} as const
const nonceDemand = {
  status: 401,
  headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'yet-another-nonce' },
}

describe.each(harnesses)('$name adapter with DPoP', (harness) => {
  let provider: TokenProvider
  const clients: Client[] = []
  const open = (baseUrl: string) => {
    const created = harness.create(provider, baseUrl)
    clients.push(created)
    return created
  }
  beforeEach(() => {
    for (const server of [servers.auth, servers.api, servers.nonceApi, servers.other]) server.stats.reset()
    provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      ...client,
      dpop: createDpop(),
    })
  })
  afterEach(async () => {
    for (const created of clients.splice(0)) created.close()
    await provider.close()
  })

  it('sends a DPoP-bound token with a proof the API accepts', async () => {
    const { status, data } = await open(servers.api.url).send('POST', '/echo/orders?page=2', 'json')
    expect(status).toBe(200)
    expect(data).toMatchObject({
      authorized: true,
      method: 'POST',
      path: '/echo/orders',
      query: { page: '2' },
    })
    expect(servers.api.requests.map((r) => [r.authorization, r.dpop, r.status])).toEqual([[true, true, 200]])
    const token = await provider.getToken()
    expect(token.tokenType).toBe('DPoP')
    expect((await servers.auth.verifyAccessToken(token.accessToken))?.cnf).toEqual({
      jkt: await provider.dpop!.thumbprint(),
    })
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('does the resource server’s nonce dance: 401 use_dpop_nonce, one replay with it, then 200', async () => {
    const api$ = open(servers.nonceApi.url)
    expect((await api$.send('GET', '/echo/first')).status).toBe(200)
    expect(servers.nonceApi.requests.map((r) => [r.path, r.status])).toEqual([
      ['/echo/first', 401],
      ['/echo/first', 200],
    ])
    // the nonce is kept for that origin: the next request carries it at once
    expect((await api$.send('PUT', '/echo/second', 'string')).status).toBe(200)
    expect(servers.nonceApi.stats.requests).toBe(3)
    expect(servers.auth.stats.tokenRequests).toBe(1) // the token was kept through the dance
  })

  it('stops a nonce loop after one replay: a second demand goes back to the caller', async () => {
    servers.nonceApi.failNext(1, nonceDemand) // after the first (real) demand, another one
    const { status } = await open(servers.nonceApi.url).send('GET', '/echo/loop')
    expect(status).toBe(401)
    expect(servers.nonceApi.stats.requests).toBe(2)
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('returns a 401 after the nonce replay as is: the replay budget is one per request', async () => {
    servers.nonceApi.failNext(1, { status: 401 })
    const { status, data } = await open(servers.nonceApi.url).send('GET', '/echo/budget')
    expect(status).toBe(401)
    expect(data).toMatchObject({ error: 'invalid_token' })
    expect(servers.nonceApi.stats.requests).toBe(2)
    expect(servers.auth.stats.tokenRequests).toBe(1)
  })

  it('renews a refused DPoP token once and replays with a proof for the new token', async () => {
    const api$ = open(servers.api.url)
    expect((await api$.send('GET', '/echo/warm')).status).toBe(200)
    servers.auth.revokeAll()
    const { status, data } = await api$.send('POST', '/echo/after-revoke', 'URLSearchParams')
    expect(status).toBe(200)
    expect(data).toMatchObject({ authorized: true })
    expect(servers.api.requests.map((r) => r.status)).toEqual([200, 401, 200])
    expect(servers.auth.stats.tokenRequests).toBe(2)
  })

  it('200 concurrent DPoP requests: exactly 1 token request, 200 proofs accepted', async () => {
    const api$ = open(servers.api.url)
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api$.send('GET', `/echo/c/${i}`)),
    )
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
    expect(servers.auth.stats.tokenRequests).toBe(1)
    expect(servers.api.stats.requests).toBe(200)
  })

  it('200 concurrent cold requests to a nonce-demanding API: 1 token request, each sent at most twice', async () => {
    const api$ = open(servers.nonceApi.url)
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api$.send('GET', `/echo/n/${i}`)),
    )
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
    expect(servers.auth.stats.tokenRequests).toBe(1)
    const sends = Object.entries(servers.nonceApi.stats.byPath)
      .filter(([path]) => path.startsWith('/echo/n/'))
      .map(([, count]) => count)
    expect(sends).toHaveLength(200)
    expect(Math.max(...sends)).toBeLessThanOrEqual(2)
    expect(servers.nonceApi.stats.requests).toBe(200 + servers.nonceApi.stats.unauthorized)
  })

  it('proves each same-origin redirect hop anew, and sends neither token nor proof to another origin', async () => {
    const api$ = open(servers.api.url)
    const home = await api$.send('GET', `/redirect?to=${encodeURIComponent('/echo/landed?a=1')}`)
    expect(home).toMatchObject({
      status: 200,
      data: { authorized: true, path: '/echo/landed', query: { a: '1' } },
    })
    expect(servers.api.requests.map((r) => [r.path, r.status])).toEqual([
      ['/redirect', 302],
      ['/echo/landed', 200],
    ])
    const away = await api$.send(
      'GET',
      `/redirect?to=${encodeURIComponent(`${servers.other.url}/public/landing`)}`,
    )
    expect(away).toMatchObject({ status: 200, data: { path: '/public/landing', authorized: false } })
    expect(servers.other.requests.map((r) => [r.path, r.authorization, r.dpop])).toEqual([
      ['/public/landing', false, false],
    ])
  })
  it('keeps the body through a same-origin 307 hop, proved anew for the new URL', async () => {
    const api$ = open(servers.api.url)
    const to = encodeURIComponent('/echo/moved?b=2')
    const { status, data } = await api$.send('POST', `/redirect?to=${to}&status=307`, 'string')
    expect(status).toBe(200)
    const echoed = data as { authorized: boolean; method: string; path: string; bodyBase64: string }
    expect(echoed).toMatchObject({ authorized: true, method: 'POST', path: '/echo/moved' })
    expect(Buffer.from(echoed.bodyBase64, 'base64').equals(expectedBytes('string'))).toBe(true)
    // a 303 turns the POST into a GET without the body, proved for GET
    const seeOther = await api$.send(
      'POST',
      `/redirect?to=${encodeURIComponent('/echo/other')}&status=303`,
      'string',
    )
    expect(seeOther).toMatchObject({ status: 200, data: { authorized: true, method: 'GET', bodyBase64: '' } })
    expect(servers.api.requests.map((r) => [r.path, r.status])).toEqual([
      ['/redirect', 307],
      ['/echo/moved', 200],
      ['/redirect', 303],
      ['/echo/other', 200],
    ])
  })
})

describe('@tokenwell/fetch with DPoP and a Request input', () => {
  it('sends the Request’s body again on a same-origin 307 hop, and on the replay after it', async () => {
    for (const server of [servers.auth, servers.api]) server.stats.reset()
    const provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      ...client,
      dpop: createDpop(),
    })
    const authFetch = withOAuth2(provider, { match: servers.api.url })
    const to = encodeURIComponent('/echo/moved')
    const post = () =>
      new Request(`${servers.api.url}/redirect?to=${to}&status=307`, {
        method: 'POST',
        body: 'in a Request ✓',
      })
    const decode = async (response: Response) => {
      const body = (await response.json()) as { bodyBase64: string; authorized: boolean }
      return [body.authorized, Buffer.from(body.bodyBase64, 'base64').toString()]
    }
    expect(await decode(await authFetch(post()))).toEqual([true, 'in a Request ✓'])
    servers.auth.revokeAll() // the hop's 401 renews the token and replays the hop with its body
    expect(await decode(await authFetch(post()))).toEqual([true, 'in a Request ✓'])
    expect(servers.api.requests.map((r) => [r.path, r.status])).toEqual([
      ['/redirect', 307],
      ['/echo/moved', 200],
      ['/redirect', 401],
      ['/redirect', 307],
      ['/echo/moved', 200],
    ])
    expect(servers.auth.stats.tokenRequests).toBe(2)
    await provider.close()
  })
})

describe('DPoP nonces of the token endpoint and the API', () => {
  it('are kept per origin: each server’s dance happens once', async () => {
    const noncyAuth = await startMockAuthServer({ dpopNonce: true })
    const noncyApi = await startProtectedApi({ authServer: noncyAuth, dpopNonce: true })
    const provider = createTokenProvider({
      tokenEndpoint: noncyAuth.tokenEndpoint,
      ...client,
      dpop: createDpop(),
    })
    try {
      for (const harness of harnesses) {
        const api$ = harness.create(provider, noncyApi.url)
        expect((await api$.send('GET', `/echo/${harness.name}`)).status).toBe(200)
        api$.close()
      }
      // one token request after its nonce demand; one API nonce demand for all the adapters
      expect(noncyAuth.requests.map((r) => r.error)).toEqual(['use_dpop_nonce', undefined])
      expect(noncyApi.requests.map((r) => r.status)).toEqual([401, ...harnesses.map(() => 200)])
    } finally {
      await provider.close()
      await Promise.all([noncyApi.close(), noncyAuth.close()])
    }
  })
})

describe('the mock API refuses a DPoP-bound token without its proof (sanity)', () => {
  it('answers 401 to the bound token sent as DPoP without a proof, and as Bearer', async () => {
    const provider = createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      ...client,
      dpop: createDpop(),
    })
    const token = await provider.getToken()
    expect(token.tokenType).toBe('DPoP')
    for (const authorization of [`DPoP ${token.accessToken}`, `Bearer ${token.accessToken}`]) {
      const response = await fetch(`${servers.api.url}/echo/no-proof`, { headers: { authorization } })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_(dpop_proof|token)"/)
    }
    await provider.close()
  })
})
