import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { retryDelay } from '../src/endpoint/retry.js'
import { createTokenProvider, OAuthError, type TokenEvents, type TokenProviderOptions } from '../src/index.js'
import { HARD_MARGIN } from '../src/provider/expiry.js'

const tokenEndpoint = 'https://as.test/token'
const ok = (n: number, expiresIn = 300) =>
  HttpResponse.json({ access_token: `t${n}`, token_type: 'Bearer', expires_in: expiresIn })

/** An endpoint scripted per request: `script[i]` answers request i+1; the last entry repeats. */
function scripted(script: ((n: number) => Response)[]) {
  const state = { hits: 0 }
  server.use(
    http.post(tokenEndpoint, () => {
      const n = ++state.hits
      return script[Math.min(n, script.length) - 1]!(n)
    }),
  )
  return state
}
const down = () => HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })

function provider(options: Partial<TokenProviderOptions> = {}) {
  return createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    refreshAhead: false,
    retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
    ...options,
  })
}

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('retries on the token endpoint', () => {
  it('retries 5xx, 429 and network errors, then succeeds', async () => {
    const hits = scripted([
      down,
      () => new HttpResponse('slow down', { status: 429 }),
      () => HttpResponse.error(),
      ok,
    ])
    const p = provider({ retry: { attempts: 4, minDelay: 1, maxDelay: 5 } })
    expect((await p.getToken()).accessToken).toBe('t4')
    expect(hits.hits).toBe(4)
  })

  it('gives up after `attempts` and reports each attempt', async () => {
    const hits = scripted([down])
    const p = provider()
    const events: TokenEvents['token-error'][] = []
    p.on('token-error', (e) => events.push(e))
    const error = await p.getToken().catch((e) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(hits.hits).toBe(3)
    expect(events.map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ])
  })

  it('starts no retry past the total deadline', async () => {
    const hits = scripted([() => new HttpResponse(null, { status: 503, headers: { 'retry-after': '1' } })])
    const p = provider({ retry: { attempts: 10, minDelay: 1, maxDelay: 1_000, deadline: 1_500 } })
    const events: TokenEvents['token-error'][] = []
    p.on('token-error', (e) => events.push(e))
    await expect(p.getToken()).rejects.toMatchObject({ status: 503 })
    // attempt 1 at 0 s, attempt 2 at 1 s; a third at 2 s would pass the 1.5 s deadline
    expect(hits.hits).toBe(2)
    expect(events.map((e) => e.delayMs)).toEqual([1_000, undefined])
  })

  it('never retries an OAuth 4xx such as invalid_client', async () => {
    const hits = scripted([() => HttpResponse.json({ error: 'invalid_client' }, { status: 401 })])
    await expect(provider().getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH', error: 'invalid_client' })
    expect(hits.hits).toBe(1)
  })

  it('honours Retry-After in seconds and as an HTTP date, capped at maxDelay', () => {
    const retry = { attempts: 3, minDelay: 100, maxDelay: 10_000, deadline: 30_000 }
    const withHeader = (value: string) => ({
      response: new Response(null, { headers: { 'retry-after': value } }),
    })
    expect(retryDelay(withHeader('2'), 1, retry, 0, 0.5)).toBe(2_000)
    expect(retryDelay(withHeader(new Date(7_000).toUTCString()), 1, retry, 1_000, 0.5)).toBe(6_000)
    expect(retryDelay(withHeader('3600'), 1, retry, 0, 0.5)).toBe(10_000)
  })

  it('backs off exponentially with full jitter', () => {
    const retry = { attempts: 5, minDelay: 100, maxDelay: 1_000, deadline: 30_000 }
    expect(retryDelay(new Error(), 1, retry, 0, 0.999)).toBe(99)
    expect(retryDelay(new Error(), 3, retry, 0, 0.999)).toBe(399)
    expect(retryDelay(new Error(), 5, retry, 0, 0.999)).toBe(999)
    expect(retryDelay(new Error(), 3, retry, 0, 0)).toBe(0)
  })
})

describe('stale-while-valid', () => {
  it('keeps serving a still-valid token during an outage that ends before it expires: zero failed calls', async () => {
    let healthy = true
    const hits = { n: 0 }
    server.use(
      http.post(tokenEndpoint, () => {
        hits.n++
        return healthy ? ok(hits.n) : down()
      }),
    )
    let now = 0
    const p = provider({ clock: () => now, failureCooldown: 1_000 })
    const failures: TokenEvents['refresh-failed'][] = []
    p.on('refresh-failed', (e) => failures.push(e))
    await p.getToken()
    healthy = false
    const seen: string[] = []
    // from inside the skew window until the hard margin before expiry, every caller still gets t1
    for (now = 271_000; now < 300_000 - HARD_MARGIN; now += 500) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => p.getToken()))
      seen.push(...batch.map((t) => t.accessToken))
    }
    expect(new Set(seen)).toEqual(new Set(['t1']))
    expect(failures.length).toBeGreaterThan(0)
    expect(failures[0]!.expiresAt).toBe(300_000)
    // the cool-down bounds the requests: at most `attempts` per second of outage
    expect(hits.n - 1).toBeLessThanOrEqual(3 * Math.ceil(29_000 / 1_000))
    healthy = true
    now = 299_900
    now += 1_000 // outage over, past the cool-down and the expiry
    expect((await p.getToken()).accessToken).toMatch(/^t\d+$/)
    expect((await p.getToken()).accessToken).not.toBe('t1')
  })

  it('fails callers once the cached token has actually expired', async () => {
    let healthy = true
    server.use(http.post(tokenEndpoint, () => (healthy ? ok(1) : down())))
    let now = 0
    const p = provider({ clock: () => now })
    await p.getToken()
    healthy = false
    now = 300_000
    await expect(p.getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH', status: 503 })
  })
})

describe('no stampede while the endpoint is down', () => {
  it('1,000 callers during an outage cause at most `attempts` requests per cool-down window', async () => {
    const hits = scripted([down])
    let now = 0
    const p = provider({ clock: () => now, failureCooldown: 1_000 })
    const first = await Promise.allSettled(Array.from({ length: 1_000 }, () => p.getToken()))
    expect(first.every((r) => r.status === 'rejected')).toBe(true)
    expect(hits.hits).toBe(3) // one shared attempt sequence
    now = 500 // inside the cool-down: the same error, no request
    const second = await Promise.allSettled(Array.from({ length: 1_000 }, () => p.getToken()))
    expect(second.every((r) => r.status === 'rejected' && (r.reason as OAuthError).status === 503)).toBe(true)
    expect(hits.hits).toBe(3)
    now = 1_001 // cool-down over: one new shared attempt sequence
    await Promise.allSettled(Array.from({ length: 1_000 }, () => p.getToken()))
    expect(hits.hits).toBe(6)
  })
})

describe('refresh-ahead', () => {
  it('refreshes in the background before the token is due, so callers never wait', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5) // ahead at 85%: 255 s
    const hits = scripted([ok])
    let now = 0
    const p = provider({ clock: () => now, refreshAhead: true })
    expect((await p.getToken()).accessToken).toBe('t1')
    now = 254_000
    expect((await p.getToken()).accessToken).toBe('t1')
    expect(hits.hits).toBe(1)
    now = 256_000
    // the caller gets the cached token at once and a refresh starts behind it
    expect((await p.getToken()).accessToken).toBe('t1')
    await vi.waitFor(() => expect(hits.hits).toBe(2))
    expect((await p.getToken()).accessToken).toBe('t2')
    await p.close()
  })

  it('peekToken() starts the same background refresh as getToken() and returns the cached token meanwhile', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5) // ahead at 85%: 255 s
    const hits = scripted([ok])
    let now = 0
    const p = provider({ clock: () => now, refreshAhead: true })
    await p.getToken()
    now = 254_000
    expect(p.peekToken()?.accessToken).toBe('t1')
    expect(hits.hits).toBe(1)
    now = 256_000
    // 100 peeks past the refresh-ahead point: one background refresh, and t1 at once for each
    for (let i = 0; i < 100; i++) expect(p.peekToken()?.accessToken).toBe('t1')
    await vi.waitFor(() => expect(hits.hits).toBe(2))
    expect(p.peekToken()?.accessToken).toBe('t2')
    expect(hits.hits).toBe(2)
    await p.close()
  })

  it('a token read only through peekToken() counts as in use: the timer refreshes it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const hits = scripted([ok])
    const p = provider({ refreshAhead: true })
    await p.getToken()
    await vi.advanceTimersByTimeAsync(256_000) // one refresh: getToken() used t1
    // t2 is read only by peekToken()
    await vi.waitFor(() => expect(p.peekToken()?.accessToken).toBe('t2'))
    await vi.advanceTimersByTimeAsync(256_000)
    await vi.waitFor(() => expect(hits.hits).toBe(3))
    await vi.advanceTimersByTimeAsync(600_000) // t3 was never read: no more refreshes
    expect(hits.hits).toBe(3)
    await p.close()
  })

  it('a timer refreshes a token that is in use, does not keep the process alive, and close() stops it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const hits = scripted([ok])
    const p = provider({ refreshAhead: true })
    const events: TokenEvents['token'][] = []
    p.on('token', (e) => events.push(e))
    await p.getToken()
    await vi.advanceTimersByTimeAsync(256_000)
    await vi.waitFor(() => expect(events.map((e) => e.background)).toEqual([false, true]))
    expect(hits.hits).toBe(2)
    await p.close()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(hits.hits).toBe(2)
  })

  it('an idle provider stops refreshing: one refresh after the last read, then none', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const hits = scripted([ok])
    const p = provider({ refreshAhead: true })
    await p.getToken() // read once, then never again
    await vi.advanceTimersByTimeAsync(3_000_000)
    expect(hits.hits).toBe(2)
    await p.close()
  })

  it('a failed background refresh never fails a caller while the token is valid', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const hits = scripted([ok, down])
    let now = 0
    const p = provider({ clock: () => now, refreshAhead: true, retry: false })
    await p.getToken()
    now = 256_000
    expect((await p.getToken()).accessToken).toBe('t1')
    await vi.waitFor(() => expect(hits.hits).toBe(2))
    now = 257_000 // backoff: no new attempt one second later for every call
    for (let i = 0; i < 50; i++) expect((await p.getToken()).accessToken).toBe('t1')
    expect(hits.hits).toBeLessThanOrEqual(3)
    await p.close()
  })
})

describe('observability', () => {
  it('emits token events with timings and the non-secret key parts', async () => {
    scripted([ok])
    const p = provider({ scope: 'a b', audience: 'api' })
    const events: TokenEvents['token'][] = []
    p.on('token', (e) => events.push(e))
    await p.getToken()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      source: 'endpoint',
      background: false,
      key: { tokenEndpoint, clientId: 'c', grantType: 'client_credentials', scope: 'a b', audience: 'api' },
    })
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('a listener that throws does not break getToken, and unsubscribe works', async () => {
    const hits = scripted([ok])
    const p = provider()
    let calls = 0
    const off = p.on('token', () => {
      calls++
      throw new Error('listener bug')
    })
    await p.getToken()
    off()
    await p.getToken({ forceRefresh: true })
    expect(calls).toBe(1)
    expect(hits.hits).toBe(2)
  })

  it('a failing store is a cache miss reported as store-error, never a failed request', async () => {
    scripted([ok])
    const broken = new Error('store down')
    const p = provider({
      store: {
        get: () => Promise.reject(broken),
        set: () => Promise.reject(broken),
        delete: () => Promise.reject(broken),
      },
    })
    const errors: TokenEvents['store-error'][] = []
    p.on('store-error', (e) => errors.push(e))
    const token = await p.getToken()
    expect(token.accessToken).toBe('t1')
    expect(await p.invalidate(token)).toBe(true)
    expect(errors.map((e) => e.operation)).toEqual(['get', 'set', 'get'])
  })
})

describe('clock skew', () => {
  it("computes a JWT's expiry on the server's clock when its Date header shows ours is off", async () => {
    const payload = btoa(JSON.stringify({ exp: 1_000_100 })).replace(/=+$/, '') // server: 100 s left
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json(
          { access_token: `h.${payload}.s`, token_type: 'Bearer' },
          { headers: { date: new Date(1_000_000_000).toUTCString() } },
        ),
      ),
    )
    const p = provider({ clock: () => 5_000_000_000 }) // our clock is far ahead
    expect((await p.getToken()).expiresAt).toBe(5_000_100_000)
  })
})
