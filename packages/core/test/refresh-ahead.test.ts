import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenProvider, type TokenProviderOptions } from '../src/index.js'
import { HARD_MARGIN, MIN_SERVE_WINDOW, scheduleFor } from '../src/provider/expiry.js'

const tokenEndpoint = 'https://as.test/token'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const realSetTimeout = globalThis.setTimeout

/**
 * Moves the fake clock on by `ms`; then, while an answer of the token endpoint has not yet
 * become a token, lets real time pass (hashing runs on WebCrypto's thread pool, which fake
 * timers do not drive), so the fake clock never runs ahead of work a real one would wait for.
 */
async function advance(ms: number, state: { answered: number; adopted: number }): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  while (state.answered > state.adopted) await new Promise((resolve) => realSetTimeout(resolve, 1))
}

/** A token endpoint (an injected fetch) that answers after `latency` ms of the fake clock. */
function slowEndpoint(lifetimeSeconds: number, latency: number) {
  const state = { hits: 0, answered: 0, adopted: 0 }
  const fetch = async () => {
    const n = ++state.hits
    await sleep(latency)
    state.answered++
    const body = { access_token: `t${n}`, token_type: 'Bearer', expires_in: lifetimeSeconds }
    return Response.json(body)
  }
  return { state, fetch }
}

function provider(options: Partial<TokenProviderOptions>) {
  return createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', ...options })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the refresh schedule', () => {
  it('starts the background refresh inside the usable life, jittered, for every lifetime from 2 s to a day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2_000, max: 86_400_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (lifetime, skew, random) => {
          const s = scheduleFor(0, lifetime, skew, random)
          expect(0 < s.aheadAt && s.aheadAt < s.refreshAt && s.refreshAt <= s.serveUntil).toBe(true)
          expect(lifetime - s.serveUntil).toBeCloseTo(Math.min(HARD_MARGIN, lifetime / 10))
          // a 300 ms token endpoint answers before the token stops serving, even from the latest start
          expect(s.serveUntil - scheduleFor(0, lifetime, skew, 0.999).aheadAt).toBeGreaterThan(300)
          // the jitter spreads a fleet over a tenth of the time up to refreshAt or more, whatever the lifetime
          const spread =
            scheduleFor(0, lifetime, skew, 0.999).aheadAt - scheduleFor(0, lifetime, skew, 0).aheadAt
          expect(spread).toBeGreaterThan(0.1 * s.refreshAt)
        },
      ),
    )
  })

  it('serves a token granted for less than a second for MIN_SERVE_WINDOW after it arrived', () => {
    for (const lifetime of [0, 1, 999]) {
      expect(scheduleFor(10, 10 + lifetime, 30_000, 0.5)).toEqual({
        aheadAt: 10 + MIN_SERVE_WINDOW,
        refreshAt: 10 + MIN_SERVE_WINDOW,
        serveUntil: 10 + MIN_SERVE_WINDOW,
      })
    }
  })
})

describe('refresh-ahead under steady load (fake clock, token endpoint answering in 300 ms)', () => {
  it.each([2, 5, 60, 300, 86_400])(
    '%i s tokens: no caller waits after warm-up, one token request per lifetime',
    async (lifetime) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
      const { state, fetch } = slowEndpoint(lifetime, 300)
      const p = provider({ fetch, clock: () => Date.now() })
      p.on('token', () => state.adopted++)
      let warm = false
      void p.getToken().then(() => (warm = true))
      while (!warm) await advance(10, state)
      const lifetimes = 5
      const duration = lifetime * 1000 * lifetimes
      const step = Math.max(50, (lifetime * 1000) / 40)
      let waits = 0
      let calls = 0
      let failures = 0
      for (let t = 0; t < duration; t += step) {
        // 16 callers in flight at each step: each takes the cached token, or waits for a fetch
        const batch = Array.from({ length: 16 }, async () => {
          calls++
          if (p.peekToken() !== undefined) return
          waits++
          await p.getToken().catch(() => failures++)
        })
        await advance(step, state)
        await Promise.all(batch)
      }
      expect({ waits, failures }).toEqual({ waits: 0, failures: 0 })
      expect(calls).toBeGreaterThan(1_000)
      // one request per lifetime: refreshed at 80–95% of the time up to refreshAt, never more often
      expect(state.hits - 1).toBeGreaterThanOrEqual(lifetimes - 1)
      expect(state.hits - 1).toBeLessThanOrEqual(Math.ceil(lifetimes / 0.4))
      await p.close()
    },
    30_000,
  )
})

describe('a token that lives less than the skew, or not at all', () => {
  it.each([0, 0.5, 10])('expires_in %s: 50 sequential calls make one token request', async (expiresIn) => {
    const state = { hits: 0 }
    const fetch = async () => {
      state.hits++
      return Response.json({ access_token: `t${state.hits}`, token_type: 'Bearer', expires_in: expiresIn })
    }
    let now = 0
    const p = provider({ fetch, clock: () => now, refreshAhead: false })
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      seen.add((await p.getToken()).accessToken)
      now += 10 // 50 calls within 500 ms
    }
    expect(state.hits).toBe(1)
    expect(seen).toEqual(new Set(['t1']))
    now += MIN_SERVE_WINDOW + Math.max(0, expiresIn * 1000) // past the window: one more request
    await p.getToken()
    expect(state.hits).toBe(2)
  })
})
