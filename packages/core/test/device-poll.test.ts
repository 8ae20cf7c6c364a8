import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { deviceCodeGrant } from '../src/device/index.js'
import {
  AuthorizationError,
  ConfigError,
  createTokenProvider,
  OAuthError,
  type TokenProviderOptions,
} from '../src/index.js'

// The device code grant's poll loop (RFC 8628 §3.4, §3.5) on fake timers: no test waits seconds.
const tokenEndpoint = 'https://as.test/token'
const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
const DEVICE_CODE = 'dc-71b3-secret'
const T0 = Date.UTC(2030, 0, 1)

const pending = () => HttpResponse.json({ error: 'authorization_pending' }, { status: 400 })
const slowDown = () => HttpResponse.json({ error: 'slow_down' }, { status: 400 })
const denied = () =>
  HttpResponse.json({ error: 'access_denied', error_description: 'the user said no' }, { status: 400 })
const expired = () => HttpResponse.json({ error: 'expired_token' }, { status: 400 })
const down = () => HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })
const ok = (n: number) =>
  HttpResponse.json({ access_token: `t${n}`, token_type: 'Bearer', expires_in: 300, refresh_token: `r${n}` })

/** A token endpoint scripted per request (the last entry repeats); it records when each came and what it carried. */
function scripted(script: ((n: number) => Response)[]) {
  const requests: { at: number; form: URLSearchParams }[] = []
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      requests.push({ at: Date.now() - T0, form: new URLSearchParams(await request.text()) })
      const n = requests.length
      return script[Math.min(n, script.length) - 1]!(n)
    }),
  )
  return requests
}

function provider(grant: Record<string, unknown> = {}, options: Partial<TokenProviderOptions> = {}) {
  return createTokenProvider({
    tokenEndpoint,
    clientId: 'tv',
    clientAuth: 'none',
    refreshAhead: false,
    failureCooldown: 0,
    retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
    grant: deviceCodeGrant({ deviceCode: DEVICE_CODE, interval: 5_000, ...grant } as never),
    ...options,
  })
}

/**
 * Runs the clock until `until()` holds: msw answers through real I/O, so real ticks run until
 * a (fake) timer is pending, then fake time jumps to it, and so on. Time is exact and costs no wall time.
 */
async function drive(until: () => boolean): Promise<void> {
  for (let spins = 0; !until(); spins++) {
    if (spins > 200_000) throw new Error('drive(): nothing happens')
    if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync()
    else await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Drives the clock until `promise` settles; returns the outcome. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let outcome: { value?: T; error?: unknown } | undefined
  promise.then(
    (value) => {
      outcome = { value }
    },
    (error: unknown) => {
      outcome = { error }
    },
  )
  await drive(() => outcome !== undefined)
  return outcome!
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('device code grant: polling the token endpoint', () => {
  it('3 × authorization_pending then a token: exactly 4 token requests, one interval apart', async () => {
    const requests = scripted([pending, pending, pending, ok])
    const p = provider()
    const { value } = await settle(p.getToken())
    expect(value?.accessToken).toBe('t4')
    expect(requests.map((r) => r.at)).toEqual([0, 5_000, 10_000, 15_000])
    expect(requests.map((r) => Object.fromEntries(r.form))).toEqual(
      Array(4).fill({ grant_type: DEVICE, device_code: DEVICE_CODE, client_id: 'tv' }),
    )
  })

  it('slow_down adds 5 s to the interval for good', async () => {
    const requests = scripted([slowDown, pending, slowDown, pending, ok])
    const p = provider()
    const { value } = await settle(p.getToken())
    expect(value?.accessToken).toBe('t5')
    // 5 s → 10 s after the first slow_down, 15 s after the second
    expect(requests.map((r) => r.at)).toEqual([0, 10_000, 20_000, 35_000, 50_000])
  })

  it('the server’s 5 s default when the grant names no interval', async () => {
    const requests = scripted([pending, ok])
    const p = provider({ interval: undefined })
    await settle(p.getToken())
    expect(requests.map((r) => r.at)).toEqual([0, 5_000])
  })

  it('access_denied is an AuthorizationError, and the code is never polled again', async () => {
    const requests = scripted([pending, denied])
    const p = provider()
    const { error } = await settle(p.getToken())
    expect(error).toBeInstanceOf(AuthorizationError)
    expect(error).toMatchObject({
      code: 'ERR_AUTHORIZATION',
      error: 'access_denied',
      errorDescription: 'the user said no',
    })
    expect((error as Error).cause).toBeInstanceOf(OAuthError)
    const again = await settle(p.getToken())
    expect(again.error).toBe(error)
    expect(requests).toHaveLength(2)
  })

  it('expired_token from the server is an AuthorizationError', async () => {
    const requests = scripted([pending, expired])
    const { error } = await settle(provider().getToken())
    expect(error).toBeInstanceOf(AuthorizationError)
    expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION', error: 'expired_token' })
    expect((error as Error).message).toMatch(/expired .*start again/)
    expect(requests).toHaveLength(2)
  })

  it('stops at expiresAt: no poll is sent that could only be answered expired_token', async () => {
    const requests = scripted([pending])
    const p = provider({ expiresAt: T0 + 12_000 })
    const { error } = await settle(p.getToken())
    expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION', error: 'expired_token' })
    expect(requests.map((r) => r.at)).toEqual([0, 5_000, 10_000])
    expect(Date.now() - T0).toBe(10_000) // at once, not after another wait
    const late = provider({ expiresAt: T0 - 1 })
    expect((await settle(late.getToken())).error).toMatchObject({ error: 'expired_token' })
    expect(requests).toHaveLength(3)
  })

  it('concurrent callers share one poll; a caller’s signal ends its own wait only', async () => {
    const requests = scripted([pending, pending, ok])
    const p = provider()
    const controller = new AbortController()
    const impatient = p.getToken({ signal: controller.signal })
    const others = Array.from({ length: 10 }, () => p.getToken())
    await drive(() => requests.length === 2)
    controller.abort(new Error('Ctrl-C'))
    await expect(impatient).rejects.toThrow('Ctrl-C')
    const tokens = (await settle(Promise.all(others))).value ?? []
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['t3']))
    expect(requests).toHaveLength(3)
  })

  it('close() ends a poll in progress with an AuthorizationError and sends nothing more', async () => {
    const requests = scripted([pending])
    const p = provider()
    const outcome = p.getToken().then(
      () => undefined,
      (error: unknown) => error,
    )
    await drive(() => requests.length === 2 && vi.getTimerCount() > 0) // polled at 0 and 5 s, waiting
    await p.close()
    const error = await outcome
    expect(error).toBeInstanceOf(AuthorizationError)
    expect((error as Error).message).toMatch(/closed before the device authorization was approved/)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(requests).toHaveLength(2)
    // the provider still answers getToken(): it polls anew
    const after = scripted([ok])
    expect((await settle(p.getToken())).value?.accessToken).toBe('t1')
    expect(after).toHaveLength(1)
  })

  it('a network failure or 503 mid-poll is retried at the same pace, and the poll goes on', async () => {
    const requests = scripted([pending, down, () => HttpResponse.error(), pending, ok])
    const p = provider()
    const { value } = await settle(p.getToken())
    expect(value?.accessToken).toBe('t5')
    expect(requests).toHaveLength(5)
    const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(5_000)
  })

  it('then keeps the token alive with the refresh token and never sends the device code again', async () => {
    const requests = scripted([pending, ok])
    const p = provider()
    expect((await settle(p.getToken())).value?.accessToken).toBe('t2')
    expect((await settle(p.getToken({ forceRefresh: true }))).value?.accessToken).toBe('t3')
    expect(Object.fromEntries(requests[2]!.form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r2',
      client_id: 'tv',
    })
    expect(requests).toHaveLength(3)
  })

  it('a refused refresh token is the server’s invalid_grant, then "log in again" without a request', async () => {
    const requests = scripted([ok, () => HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })])
    const p = provider()
    await settle(p.getToken())
    vi.setSystemTime(T0 + 301_000) // the token has expired: no stale token to fall back on
    expect((await settle(p.getToken())).error).toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_grant',
    })
    const { error } = await settle(p.getToken())
    expect(error).toBeInstanceOf(AuthorizationError)
    expect((error as Error).message).toBe(
      'the device code was already exchanged and no refresh token is left: log in again',
    )
    expect(requests).toHaveLength(2)
  })

  it('the device code never shows in an error or event', async () => {
    scripted([pending, denied])
    const p = provider()
    const seen: unknown[] = []
    p.on('token-error', (e) => seen.push(e.error.message))
    const { error } = await settle(p.getToken())
    const text = [
      String(error),
      JSON.stringify(error),
      (error as Error).stack,
      ...seen,
      JSON.stringify(p),
    ].join('\n')
    expect(text).not.toContain(DEVICE_CODE)
  })

  it.each([
    [{ deviceCode: '' }, /grant.deviceCode must be a non-empty string/],
    [{ interval: -1 }, /grant.interval must be a number of milliseconds/],
    [{ expiresAt: 'soon' }, /grant.expiresAt must be an instant/],
  ])('a bad grant %j is a ConfigError', (grant, message) => {
    expect(() => provider(grant)).toThrow(ConfigError)
    expect(() => provider(grant)).toThrow(message)
  })

  it('a device code grant not made by deviceCodeGrant() is a ConfigError naming the entry that polls', () => {
    const create = () =>
      createTokenProvider({
        tokenEndpoint: 'https://as.test/token',
        clientId: 'tv',
        clientAuth: 'none',
        grant: { type: DEVICE, deviceCode: DEVICE_CODE } as never,
      })
    expect(create).toThrow(ConfigError)
    expect(create).toThrow(/deviceCodeGrant\(\) from @tokenwell\/core\/device/)
  })
})
