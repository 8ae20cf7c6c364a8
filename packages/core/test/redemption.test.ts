import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '../src/index.js'
import { fleetStore, rotatingEndpoint } from './support/fake-fleet.js'

// Rule 4, counted at a token endpoint with rotation and reuse detection, on a fake clock: a
// refresh token is redeemed at most once, across timeouts, retries and a fleet's processes.

const tokenEndpoint = 'https://as.test/token'
const realSetTimeout = globalThis.setTimeout
const grant = { type: 'refresh_token', refreshToken: 'rt0' } as const

function provider(options: Partial<TokenProviderOptions>) {
  return createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    grant,
    clock: () => Date.now(),
    ...options,
  })
}

/** Moves the fake clock on, letting real I/O (WebCrypto hashing) run between the steps. */
async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 50) {
    await vi.advanceTimersByTimeAsync(Math.min(50, left))
    await new Promise((resolve) => realSetTimeout(resolve, 0))
  }
}

/** Advances the fake clock until `promise` settles. */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  while (!done) await advance(50)
  return promise
}

/** `lanes` callers per provider taking a token every `every` ms for `duration` ms; failures counted. */
async function steadyLoad(providers: TokenProvider[], duration: number, every = 100) {
  const tally = { calls: 0, failures: 0, errors: [] as string[] }
  for (let t = 0; t < duration; t += every) {
    for (const p of providers) {
      tally.calls++
      if (p.peekToken()) continue
      p.getToken().catch((error: Error) => {
        tally.failures++
        if (tally.errors.length < 3) tally.errors.push(error.message)
      })
    }
    await advance(every)
  }
  return tally
}

const timers = () =>
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
afterEach(() => {
  vi.useRealTimers()
})

describe('a refresh answered after its timeout', () => {
  it('is adopted, never sent again: 0 reuse, 0 invalid_grant, no failed call (one process)', async () => {
    timers()
    let latency = 0
    // 4 s tokens: refreshed ahead at 2.0–2.4 s, so even the 700 ms answer comes well before
    // the token stops serving at 3.6 s (the fake clock may run ahead of real hashing a little)
    const { fetch, stats } = rotatingEndpoint({ lifetime: 4, latency: () => latency })
    const p = provider({ fetch, timeout: 400 })
    const late: string[] = []
    p.on('token-error', (e) => late.push(e.error.message))
    expect((await settled(p.getToken())).accessToken).toBe('at1')
    latency = 700 // every refresh is answered 300 ms after its caller stopped waiting
    const load = await steadyLoad([p], 12_000)
    expect(load).toMatchObject({ failures: 0 })
    expect(stats).toMatchObject({ reuse: 0, invalidGrant: 0 })
    expect([...stats.redemptions.values()].every((count) => count === 1)).toBe(true)
    expect(late.length).toBeGreaterThan(0)
    expect(late[0]).toMatch(/timed out after 400 ms/)
    // every late answer became the current token: the newest refresh token is the one held
    // (closed first, so no refresh ahead starts while the last one is answered)
    await p.close()
    await advance(750) // the 700 ms answer of a refresh still in flight
    expect(p.peekToken()?.refreshToken).toBe(`rt${stats.requests}`)
  }, 30_000)

  it('a caller with no token gets the timeout; the next caller gets the late token without a new request', async () => {
    timers()
    const { fetch, stats } = rotatingEndpoint({ lifetime: 300, latency: () => 700 })
    const p = provider({ fetch, timeout: 400 })
    const first = p.getToken().catch((error: unknown) => error)
    // the clock moves once the request is out: before it go hashes (the cache key, the refresh
    // token a store's lease marks), real work the fake clock must not run ahead of
    while (stats.requests === 0) await new Promise((resolve) => realSetTimeout(resolve, 1))
    await advance(450)
    expect(await first).toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    await advance(400)
    expect((await p.getToken()).accessToken).toBe('at1')
    expect(stats).toMatchObject({ requests: 1, reuse: 0, invalidGrant: 0 })
  })

  it('a request lost after it was sent is never repeated with that refresh token', async () => {
    const { fetch: answer, stats } = rotatingEndpoint({ lifetime: 300, latency: () => 0 })
    // the server processes it (and rotates), then the connection drops before the answer
    const fetch = async (request: Request) => {
      await answer(request)
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      })
    }
    const p = provider({ fetch, failureCooldown: 0 })
    await expect(p.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    await expect(p.getToken()).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
    expect(stats).toMatchObject({ requests: 1, reuse: 0 })
  })

  it('a request refused before it reached the server is retried with the same refresh token', async () => {
    const { fetch: answer, stats } = rotatingEndpoint({ lifetime: 300, latency: () => 0 })
    let refused = 0
    const fetch = async (request: Request) => {
      if (refused++ === 0)
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
        })
      return answer(request)
    }
    const p = provider({ fetch, retry: { minDelay: 1, maxDelay: 1 } })
    expect((await p.getToken()).accessToken).toBe('at1')
    expect(refused).toBe(2)
    expect(stats).toMatchObject({ requests: 1, reuse: 0 })
  })
})

describe('a fleet of 3 processes sharing a lease store', () => {
  it.each([
    {
      name: 'lockTtl 200 ms, refreshes answered in 600 ms',
      lockTtl: 200,
      latency: 600,
      lifetime: 5,
      duration: 40_000,
    },
    {
      name: 'the defaults, a 12 s slow token endpoint',
      lockTtl: undefined,
      latency: 12_000,
      lifetime: 60,
      duration: 200_000,
    },
  ])(
    '$name: every refresh token redeemed exactly once, 0 failed calls',
    async ({ lockTtl, latency, lifetime, duration }) => {
      timers()
      let slow = 0
      const { fetch, stats } = rotatingEndpoint({ lifetime, latency: () => slow })
      const store = fleetStore(() => Date.now())
      const fleet = [0, 1, 2].map(() => provider({ fetch, store, ...(lockTtl !== undefined && { lockTtl }) }))
      const warm = await settled(Promise.all(fleet.map((p) => p.getToken())))
      expect(new Set(warm.map((t) => t.accessToken))).toEqual(new Set(['at1']))
      slow = latency
      const load = await steadyLoad(fleet, duration, 200)
      expect(load).toMatchObject({ failures: 0 })
      expect(stats).toMatchObject({ reuse: 0, invalidGrant: 0 })
      expect([...stats.redemptions.values()].every((count) => count === 1)).toBe(true)
      expect(stats.requests).toBeGreaterThanOrEqual(duration / (lifetime * 1000))
      await Promise.all(fleet.map((p) => p.close()))
    },
    60_000,
  )
})
