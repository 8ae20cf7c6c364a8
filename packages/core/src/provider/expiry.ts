/**
 * The largest hard margin, ms: a token is never handed out in the last this-many ms before it
 * expires (a tenth of its lifetime when that is shorter), so it cannot expire in transit.
 */
export const HARD_MARGIN = 2_000

/**
 * How long a token granted for no time at all (`expires_in: 0`, or an `exp` already past) is
 * served after it arrived, ms, so sequential callers share it instead of asking the token
 * endpoint once per call; a 401 for it is still one refresh. A token that lives at all, however
 * briefly, is never served past its expiry: a 1 s JWT whose `exp` is on a whole second may have
 * a few ms left, and the next one, asked for then, lives its whole second.
 */
export const MIN_SERVE_WINDOW = 1_000

/**
 * Time left at least between the latest background refresh start and `serveUntil`, ms (a third
 * of the usable life when shorter): room for the token endpoint to answer and for a busy event
 * loop to run the timer late.
 */
const AHEAD_HEADROOM = 10_000

/**
 * The background refresh never starts before this share of the usable life: `refreshSkew` moves
 * it earlier for long tokens only, so a short token is asked for once per lifetime, not twice.
 */
const AHEAD_FLOOR = 2 / 3

/**
 * The latest background start leaves this many times the last token request's duration before
 * `serveUntil` (when more than the headroom): a slow token endpoint answers before a short token
 * stops serving.
 */
const LEAD_FACTOR = 2

/** The jitter: a background refresh starts in the last this-share of the time up to its latest start. */
const AHEAD_JITTER = 0.15

/** When a token should be replaced, epoch ms. */
export interface RefreshSchedule {
  /**
   * When a background refresh starts: in the last 15% of the time up to its latest start
   * (jittered for every lifetime, so a fleet that fetched together does not refresh in
   * lockstep). The latest start is `refreshSkew` before expiry, but never before two thirds of
   * the usable life, and at least 10 s (a third of the usable life when shorter) before
   * `serveUntil`, and twice the last token request's duration when that is more (down to the
   * token's arrival). So each token is replaced by one token request, after serving more than
   * half its lifetime unless the endpoint is slow for it, and the answer has time to come
   * before the token stops serving.
   */
  aheadAt: number
  /**
   * When the token is due: `refreshSkew` before expiry (capped at half the lifetime). Without
   * refresh-ahead callers wait for a new token from here on; another process does not take the
   * token from a shared store after it.
   */
  refreshAt: number
  /**
   * The end of the token's usable life: `expiresAt` minus the hard margin. While a refresh is
   * in flight (or has failed), callers keep the current token until here; only after it does a
   * caller wait.
   */
  serveUntil: number
}

/**
 * The schedule of a token obtained at `obtainedAt` and expiring at `expiresAt` (epoch ms);
 * `random` in [0, 1) places the jittered `aheadAt`; `lead` is how long the last token request
 * took (ms): the latest start leaves twice that before `serveUntil`, down to `obtainedAt`.
 */
export function scheduleFor(
  obtainedAt: number,
  expiresAt: number,
  skew: number,
  random: number,
  lead = 0,
): RefreshSchedule {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  if (lifetime === 0) {
    const until = obtainedAt + MIN_SERVE_WINDOW
    return { aheadAt: until, refreshAt: until, serveUntil: until }
  }
  const serveUntil = expiresAt - Math.min(HARD_MARGIN, lifetime / 10)
  const refreshAt = Math.min(serveUntil, expiresAt - Math.min(skew, lifetime / 2))
  const usable = serveUntil - obtainedAt
  const room = Math.max(Math.min(AHEAD_HEADROOM, usable / 3), LEAD_FACTOR * lead)
  const latest = Math.max(obtainedAt, serveUntil - room)
  const start = Math.min(latest, Math.max(expiresAt - skew, obtainedAt + AHEAD_FLOOR * usable))
  const aheadAt = obtainedAt + (start - obtainedAt) * (1 - AHEAD_JITTER + AHEAD_JITTER * random)
  return { aheadAt, refreshAt, serveUntil }
}

/** The last retry of a failed background refresh leaves at most this much before `serveUntil`, ms (a tenth of the usable life when shorter). */
const RETRY_HEADROOM = 1_000

/**
 * The latest a failed background refresh is tried again and still answers before `serveUntil`
 * (epoch ms): twice the last token request's duration before it, and at least `RETRY_HEADROOM`
 * (a tenth of the usable life when shorter). A backoff that would pass it is cut to it once, so
 * an outage that ends before the token stops serving fails no caller.
 */
export function retryByFor(schedule: RefreshSchedule, obtainedAt: number, lead = 0): number {
  const usable = schedule.serveUntil - obtainedAt
  return schedule.serveUntil - Math.max(LEAD_FACTOR * lead, Math.min(RETRY_HEADROOM, usable / 10))
}

/**
 * When a token obtained at `obtainedAt` and expiring at `expiresAt` is due (epoch ms): `skew`
 * ms early, capped at half the lifetime so a token that lives 5 s is still reused.
 */
export function refreshAtFor(obtainedAt: number, expiresAt: number, skew: number): number {
  return scheduleFor(obtainedAt, expiresAt, skew, 0).refreshAt
}

/**
 * Expiry (epoch ms) of a JWT access token from its `exp` claim, without verifying it: the
 * client only uses it to know when to refresh. `undefined` when the token is not a JWT.
 */
export function jwtExpiresAt(accessToken: string): number | undefined {
  const parts = accessToken.split('.')
  if (parts.length !== 3 || !parts[1]) return undefined
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'))
    const exp = (JSON.parse(json) as { exp?: unknown }).exp
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}
