/**
 * The longest TTL written, ms (about 34 years): Redis refuses a `PX` that is not an integer or
 * whose expiry instant overflows, and a refused write would lose the refresh token with it.
 */
export const MAX_TTL = 2 ** 40

/** `ms` as a `PX` argument Redis accepts: a whole number of ms in [1, MAX_TTL]. */
export function clampTtl(ms: number): string {
  const value = Number.isFinite(ms) ? Math.ceil(ms) : MAX_TTL
  return String(Math.min(MAX_TTL, Math.max(1, value)))
}
