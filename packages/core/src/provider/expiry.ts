/**
 * The largest hard margin, ms: a token is never handed out in the last this-many ms before it
 * expires (a tenth of its lifetime when that is shorter), so it cannot expire in transit.
 */
export const HARD_MARGIN = 2_000

/**
 * The shortest time a token serves, ms. A token granted for less (`expires_in: 0`, or a
 * lifetime below a second) is served this long after it arrived, so sequential callers share
 * it instead of asking the token endpoint once per call; a 401 for it is still one refresh.
 */
export const MIN_SERVE_WINDOW = 1_000

/** Time left at least between the latest background refresh start and `serveUntil`, ms (a quarter of the life when shorter). */
const AHEAD_HEADROOM = 10_000

/** When a token should be replaced, epoch ms. */
export interface RefreshSchedule {
  /**
   * When a background refresh starts: at 80–95% of the time up to `refreshAt` (jittered for
   * every lifetime, so a fleet that fetched together does not refresh in lockstep), and at
   * least 10 s (a quarter of the usable life when shorter) before `serveUntil`.
   */
  aheadAt: number
  /**
   * When the token is due: `refreshSkew` before expiry (capped at half the lifetime). Without
   * refresh-ahead callers wait for a new token from here on.
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
 * `random` in [0, 1) places the jittered `aheadAt`.
 */
export function scheduleFor(
  obtainedAt: number,
  expiresAt: number,
  skew: number,
  random: number,
): RefreshSchedule {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  if (lifetime < MIN_SERVE_WINDOW) {
    const until = obtainedAt + MIN_SERVE_WINDOW
    return { aheadAt: until, refreshAt: until, serveUntil: until }
  }
  const serveUntil = expiresAt - Math.min(HARD_MARGIN, lifetime / 10)
  const refreshAt = Math.min(serveUntil, expiresAt - Math.min(skew, lifetime / 2))
  // the latest start leaves the request time to be answered before the token stops serving
  const headroom = Math.min(AHEAD_HEADROOM, (serveUntil - obtainedAt) / 4)
  const latest = Math.min(refreshAt, serveUntil - headroom)
  const aheadAt = obtainedAt + (latest - obtainedAt) * (0.8 + 0.15 * random)
  return { aheadAt, refreshAt, serveUntil }
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
