/**
 * When a token obtained at `obtainedAt` and expiring at `expiresAt` should be replaced
 * (epoch ms). Refreshing `skew` ms early means a token never expires mid-request and tolerates
 * clock drift; the skew is capped at half the lifetime so a token that lives 5 s is still reused.
 */
export function refreshAtFor(obtainedAt: number, expiresAt: number, skew: number): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  return expiresAt - Math.min(skew, lifetime / 2)
}

/**
 * When a background refresh should start: at 80–90% of the lifetime (jittered, so a fleet
 * that fetched together does not refresh in lockstep), never after `refreshAt`.
 */
export function refreshAheadAtFor(
  obtainedAt: number,
  expiresAt: number,
  refreshAt: number,
  random: number,
): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  return Math.min(refreshAt, obtainedAt + lifetime * (0.8 + 0.1 * random))
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
