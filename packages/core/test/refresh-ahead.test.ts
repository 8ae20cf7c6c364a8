import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '../src/index.js'
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
  /** When each request arrived, and when each answer went out (fake clock). */
  const requests: number[] = []
  const answers: number[] = []
  const fetch = async () => {
    const n = ++state.hits
    requests.push(Date.now())
    await sleep(latency)
    answers.push(Date.now())
    state.answered++
    const body = { access_token: `t${n}`, token_type: 'Bearer', expires_in: lifetimeSeconds }
    return Response.json(body)
  }
  return { state, fetch, requests, answers }
}

/**
 * Warms `p` up (its first token), then for `duration` ms of the fake clock makes `callers` calls
 * every 50 ms, and lets `drain` ms more pass for the token requests still open. A call that finds
 * no cached token (`peekToken()`) waits for a token request: those are counted, and the ones that fail.
 */
async function countWaits(
  p: TokenProvider,
  state: { answered: number; adopted: number },
  { duration, callers, drain }: { duration: number; callers: number; drain: number },
): Promise<{ waits: number; failures: number }> {
  let warm = false
  void p.getToken().then(() => (warm = true))
  while (!warm) await advance(10, state)
  let waits = 0
  let failures = 0
  const waiting: Promise<unknown>[] = []
  for (let t = 0; t < duration; t += 50) {
    for (let i = 0; i < callers; i++) {
      if (p.peekToken() !== undefined) continue
      waits++
      waiting.push(p.getToken().catch(() => failures++))
    }
    await advance(50, state)
  }
  for (let t = 0; t < drain; t += 50) await advance(50, state)
  await Promise.all(waiting)
  return { waits, failures }
}

function provider(options: Partial<TokenProviderOptions>) {
  return createTokenProvider({ tokenEndpoint, clientId: 'c', clientSecret: 's', ...options })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the refresh schedule', () => {
  const lifetimes = fc.integer({ min: 2_000, max: 86_400_000 })
  const skews = fc.integer({ min: 0, max: 120_000 })
  const randoms = fc.double({ min: 0, max: 0.999, noNaN: true })

  it('starts the background refresh inside the usable life, after half the lifetime, jittered, for every lifetime from 2 s to a day', () => {
    fc.assert(
      fc.property(lifetimes, skews, randoms, (lifetime, skew, random) => {
        const s = scheduleFor(0, lifetime, skew, random)
        expect(lifetime - s.serveUntil).toBeCloseTo(Math.min(HARD_MARGIN, lifetime / 10))
        expect(s.refreshAt).toBeLessThanOrEqual(s.serveUntil)
        // past half the lifetime: the token that replaces this one is not replaced within it
        expect(s.aheadAt).toBeGreaterThan(lifetime / 2)
        // the latest start leaves a 300 ms token endpoint and 250 ms of event-loop lag room
        const latest = scheduleFor(0, lifetime, skew, 0.999)
        expect(s.serveUntil - latest.aheadAt).toBeGreaterThanOrEqual(Math.min(10_000, 550))
        // the jitter spreads a fleet over a tenth of the time up to the start or more, whatever the lifetime
        const spread = latest.aheadAt - scheduleFor(0, lifetime, skew, 0).aheadAt
        expect(spread).toBeGreaterThan(0.1 * latest.aheadAt)
      }),
    )
  })

  it('keeps refreshSkew for long tokens: a refresh ahead starts no later than refreshSkew before expiry', () => {
    fc.assert(
      fc.property(lifetimes, skews, randoms, (lifetime, skew, random) => {
        fc.pre(skew <= lifetime / 3)
        expect(scheduleFor(0, lifetime, skew, random).aheadAt).toBeLessThanOrEqual(lifetime - skew)
      }),
    )
  })

  it('under steady load each token is replaced by one token request, answered before it stops serving', () => {
    // a pure run of the schedule: each refresh starts late by `lag` and is answered after `latency`
    fc.assert(
      fc.property(
        lifetimes,
        skews,
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 250 }),
        fc.array(randoms, { minLength: 8, maxLength: 8 }),
        (lifetime, skew, latency, lag, jitter) => {
          let obtainedAt = 0
          const starts: number[] = []
          const tokens: number[] = []
          for (const random of jitter) {
            const s = scheduleFor(obtainedAt, obtainedAt + lifetime, skew, random)
            const start = s.aheadAt + lag
            const answered = start + latency
            expect(answered).toBeLessThan(s.serveUntil)
            tokens.push(obtainedAt)
            starts.push(start)
            obtainedAt = answered
          }
          for (const from of tokens) {
            expect(starts.filter((at) => at > from && at < from + lifetime)).toHaveLength(1)
          }
        },
      ),
    )
  })

  it('serves a token granted for no time for MIN_SERVE_WINDOW after it arrived, and one that lives at all never past its expiry', () => {
    for (const expiresAt of [10, 5]) {
      expect(scheduleFor(10, expiresAt, 30_000, 0.5)).toEqual({
        aheadAt: 10 + MIN_SERVE_WINDOW,
        refreshAt: 10 + MIN_SERVE_WINDOW,
        serveUntil: 10 + MIN_SERVE_WINDOW,
      })
    }
    for (const lifetime of [1, 50, 500, 999]) {
      for (const lead of [0, 300]) {
        const { aheadAt, refreshAt, serveUntil } = scheduleFor(10, 10 + lifetime, 30_000, 0.5, lead)
        expect(serveUntil).toBeLessThan(10 + lifetime)
        expect(refreshAt).toBeLessThanOrEqual(serveUntil)
        expect(aheadAt).toBeLessThanOrEqual(serveUntil)
        expect(aheadAt).toBeGreaterThanOrEqual(10)
      }
    }
  })
})

describe('refresh-ahead under steady load (fake clock, default refreshSkew, token endpoint answering in 300 ms)', () => {
  it.each([2, 5, 10, 30, 60, 300, 3_600, 86_400])(
    '%i s tokens: no caller waits after warm-up, one token request per lifetime',
    async (lifetime) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
      const { state, fetch, requests, answers } = slowEndpoint(lifetime, 300)
      const p = provider({ fetch, clock: () => Date.now() })
      p.on('token', () => state.adopted++)
      let warm = false
      void p.getToken().then(() => (warm = true))
      while (!warm) await advance(10, state)
      const lifetimes = 6
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
      await p.close()
      expect({ waits, failures }).toEqual({ waits: 0, failures: 0 })
      expect(calls).toBeGreaterThan(3_000)
      // each token's lifetime (from its arrival) sees exactly one token request: the one that replaces it
      const perLifetime = answers
        .slice(0, -1)
        .map((at) => requests.filter((start) => start > at && start < at + lifetime * 1000).length)
      expect(perLifetime.length).toBeGreaterThanOrEqual(lifetimes - 1)
      expect(new Set(perLifetime)).toEqual(new Set([1]))
    },
    30_000,
  )
})

describe('refresh-ahead with a slow token endpoint (fake clock): the refresh starts early enough', () => {
  it.each([
    [2, 800],
    [2, 1_500],
    [5, 2_500],
    [10, 5_000],
  ])(
    '%i s tokens, a token endpoint answering in %i ms: no caller waits after warm-up',
    async (lifetime, latency) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
      const { state, fetch, requests, answers } = slowEndpoint(lifetime, latency)
      const p = provider({ fetch, clock: () => Date.now() })
      p.on('token', () => state.adopted++)
      // 4 callers every 50 ms for 6 lifetimes: each takes the cached token, or waits for a token request
      const counted = await countWaits(p, state, {
        duration: lifetime * 1000 * 6,
        callers: 4,
        drain: latency,
      })
      await p.close()
      expect(counted).toEqual({ waits: 0, failures: 0 })
      // one token request at a time, each answered before the next starts
      expect(requests.slice(1).every((at, i) => at >= answers[i]!)).toBe(true)
    },
    30_000,
  )
})

describe('a token that lives less than the skew, or not at all', () => {
  it.each([0, 10])('expires_in %s: 50 sequential calls make one token request', async (expiresIn) => {
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

  it.each([true, false])(
    '1 s JWTs whose exp is on a whole second (refreshAhead %s): no call is handed a token past its exp',
    async (refreshAhead) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
      // the server stamps iat on the second it issues in: exp = iat + 1 may be a few ms away
      const state = { hits: 0, answered: 0, adopted: 0 }
      const fetch = async () => {
        state.hits++
        await sleep(20)
        const exp = Math.floor(Date.now() / 1000) + 1
        const claims = btoa(JSON.stringify({ exp, n: state.hits })).replace(/=+$/, '')
        state.answered++
        const body = { access_token: `e30.${claims}.sig`, token_type: 'Bearer', expires_in: 1 }
        return Response.json(body, { headers: { date: new Date().toUTCString() } })
      }
      vi.setSystemTime(10_990) // the first token is issued 10 ms before its exp second ends
      const p = provider({ fetch, clock: () => Date.now(), refreshAhead })
      p.on('token', () => state.adopted++)
      let expired = 0
      let settled = 0
      const calls = 500
      for (let i = 0; i < calls; i++) {
        void p
          .getToken()
          .then((token) => {
            const { exp } = JSON.parse(atob(token.accessToken.split('.')[1]!)) as { exp: number }
            if (Date.now() >= exp * 1000) expired++
          })
          .finally(() => settled++)
        // the first call loads what it needs in real time (a busy machine: longer than the whole loop)
        while (state.hits === 0) await new Promise((resolve) => realSetTimeout(resolve, 1))
        await advance(10, state) // a call every 10 ms for 5 s
      }
      for (let i = 0; i < 100 && settled < calls; i++) await advance(10, state)
      await p.close()
      expect({ settled, expired }).toEqual({ settled: calls, expired: 0 })
      // each new token asked for in the same second has the same exp: a few per second, not one per call
      expect(state.hits).toBeLessThanOrEqual(30)
    },
    30_000,
  )
})

describe('a failing background refresh (fake clock, jitter at its latest, a token endpoint answering in 20 ms)', () => {
  it.each([
    [5, 2],
    [10, 2],
  ])(
    '%i s tokens, the refresh ahead and its next %i retries refused: the last retry comes before the token stops serving, no caller fails or waits',
    async (lifetime, refusals) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
      vi.spyOn(Math, 'random').mockReturnValue(0.99)
      const { state, fetch: answer } = slowEndpoint(lifetime, 20)
      let refused = 0
      const fetch = async () => {
        // the first token, then `refusals` background attempts refused, then tokens again
        if (state.hits >= 1 && refused < refusals) {
          refused++
          state.hits++
          state.answered++
          return Response.json({ error: 'temporarily_unavailable' }, { status: 503 })
        }
        return answer()
      }
      const p = provider({ fetch, clock: () => Date.now(), retry: false })
      p.on('token', () => state.adopted++)
      // a refusal is handled (scrubbed, on real time) before the fake clock moves on
      p.on('token-error', () => state.adopted++)
      const counted = await countWaits(p, state, { duration: lifetime * 1000 * 1.5, callers: 1, drain: 500 })
      await p.close()
      vi.mocked(Math.random).mockRestore()
      expect(refused).toBe(refusals)
      expect(counted).toEqual({ waits: 0, failures: 0 })
    },
    30_000,
  )
})
