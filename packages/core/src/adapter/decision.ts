import type { DpopSession } from '../dpop/dpop.js'
import { type HeaderValue, parseWwwAuthenticate, shouldReplay } from './www-authenticate.js'

/**
 * What a response to an authorized request means: keep it (`none`), invalidate the token and
 * replay with a fresh one (`renew`), or replay with the same token and a new proof carrying the
 * nonce the server demanded (`nonce`).
 */
export type ReplayDecision = 'none' | 'renew' | 'nonce'

/**
 * The decision for a response of `status` whose headers `header` reads. `dpop` is the session
 * that proved the request (none for a Bearer token): a `DPoP-Nonce` on any response is kept for
 * `url`'s origin, and a 401 `use_dpop_nonce` means `nonce` when a usable nonce came with it,
 * else `none` (a replay without one would be refused again). Other 401s mean `renew` unless
 * `insufficient_scope`.
 * @see RFC 9449 §8.2, §9; RFC 6750 §3.1
 */
export function replayDecision(
  status: number,
  header: (name: string) => HeaderValue,
  dpop: DpopSession | undefined,
  url: string | URL,
): ReplayDecision {
  if (dpop === undefined && status !== 401) return 'none'
  const wwwAuthenticate = header('www-authenticate')
  if (dpop !== undefined) {
    const nonce = header('dpop-nonce')
    const value = typeof nonce === 'string' ? nonce : (nonce?.[0] ?? undefined)
    dpop.rememberNonce(url, value)
    const demanded = parseWwwAuthenticate(wwwAuthenticate).some(
      (c) => c.scheme === 'dpop' && c.params['error'] === 'use_dpop_nonce',
    )
    if (status === 401 && demanded)
      return value !== undefined && dpop.nonceFor(url) === value ? 'nonce' : 'none'
  }
  return shouldReplay(status, wwwAuthenticate) ? 'renew' : 'none'
}

/** One header of a record with names in any case (node, got, axios); values other than strings are ignored. */
export function recordHeader(headers: { readonly [name: string]: unknown }, name: string): HeaderValue {
  const direct = headers[name]
  if (typeof direct === 'string') return direct
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    const value = headers[key]
    if (typeof value === 'string') return value
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  }
  return undefined
}
