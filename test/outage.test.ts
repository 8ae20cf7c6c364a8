import { createTokenProvider, type TokenEvents } from '@tokenwell/core'
import { withOAuth2 } from '@tokenwell/fetch'
import { expect, it } from 'vitest'
import { useServers } from './support/servers.js'

// Resilience against the real mock server: counts are taken at its token endpoint and API. The
// provider's clock is moved (not waited for); the server's tokens stay valid in real time.
const servers = useServers()

function setup() {
  const { auth, api } = servers
  const clock = { now: Date.now() }
  const provider = createTokenProvider({
    tokenEndpoint: auth.tokenEndpoint,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    clock: () => clock.now,
    refreshAhead: false,
    retry: { attempts: 3, minDelay: 1, maxDelay: 10 },
  })
  const authFetch = withOAuth2(provider)
  const burst = (n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => authFetch(`${api.url}/echo/${i}`).then((r) => r.status)))
  return { clock, provider, burst }
}

it('a token endpoint outage that ends before the token expires fails no request', async () => {
  const { clock, provider, burst } = setup()
  const { auth } = servers
  const failed: TokenEvents['refresh-failed'][] = []
  provider.on('refresh-failed', (e) => failed.push(e))
  expect(await burst(50)).toEqual(Array(50).fill(200))
  auth.stats.reset()
  auth.failNext(1_000, { status: 503 })
  // inside the 30 s skew window, the endpoint down: every call still succeeds with the cached token
  clock.now += 280_000
  for (let second = 0; second < 10; second++) {
    expect(await burst(100)).toEqual(Array(100).fill(200))
    clock.now += 1_000
  }
  expect(failed.length).toBeGreaterThan(0)
  // bounded: at most 3 attempts per 1 s cool-down window, however many callers
  expect(auth.stats.tokenRequests).toBeLessThanOrEqual(3 * 10)
  auth.clearFaults()
  await provider.close()
})

it('after the outage the next caller past the cool-down gets a fresh token', async () => {
  const { clock, provider, burst } = setup()
  const { auth } = servers
  await burst(1)
  clock.now += 280_000
  auth.failNext(1_000, { status: 503 })
  expect(await burst(10)).toEqual(Array(10).fill(200))
  auth.clearFaults()
  auth.stats.reset()
  clock.now += 1_001
  expect(await burst(10)).toEqual(Array(10).fill(200))
  expect(auth.stats.tokensIssued).toBe(1)
  await provider.close()
})

it('1,000 callers with no valid token during an outage make one attempt sequence, then share its error', async () => {
  const { provider, burst } = setup()
  const { auth, api } = servers
  auth.stats.reset()
  api.stats.reset()
  auth.failNext(1_000, { status: 503 })
  const outcome = await Promise.allSettled([burst(1_000)])
  expect(outcome[0]?.status).toBe('rejected')
  expect(auth.stats.tokenRequests).toBe(3)
  // no request reached the API without a token
  expect(api.stats.requests).toBe(0)
  auth.clearFaults()
  await provider.close()
})
