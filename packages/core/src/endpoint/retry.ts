import { OAuthError, TokenRequestError, TokenResponseError } from '../errors.js'
import type { ResolvedRetryOptions } from '../provider/options.js'

/**
 * What a failed token request tells about the server:
 * - `not-processed`: it never reached the server, or the server said it did not act on it
 *   (connection refused, DNS failure, connect timeout, 429, 503 with `Retry-After`): sending it
 *   again is safe, even with a refresh token;
 * - `unknown`: it may have been processed (a timeout or a lost connection after the request
 *   went out; a 2xx that is not a token response, cut short or mangled on the way; a 5xx that
 *   is not the server's OAuth error, such as a gateway's 502 or 504): a refresh token in it may
 *   be spent, so it is never sent again;
 * - `answered`: the authorization server answered with an OAuth error (or a 4xx page, a
 *   redirect): nothing was issued, but the request is not repeated at once with a refresh token.
 */
export type FailureOutcome = 'not-processed' | 'unknown' | 'answered'

/** Error codes of a request that never left this machine or never reached the server. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** Errors core created for a request it stopped waiting for while it may still be answered. */
const stillInFlight = new WeakSet<object>()

/** Marks `error` as a wait that ended while its request may still be processed. */
export function markUnknownOutcome<E extends object>(error: E): E {
  stillInFlight.add(error)
  return error
}

/** Classifies a failed token request; see `FailureOutcome`. */
export function failureOutcome(error: unknown): FailureOutcome {
  if (error instanceof OAuthError || error instanceof TokenResponseError) {
    const status = error.status ?? 0
    const response = (error as { response?: Response }).response
    // RFC 6585 §4, RFC 9110 §15.6.4: the server refused before doing the work
    if (status === 429 || (status === 503 && response?.headers.has('retry-after'))) return 'not-processed'
    // a 2xx that is not a token response is the server's work, mangled on the way; a gateway's
    // error page (or its 502, 504) may come after the server did the work
    const notOAuth = error instanceof TokenResponseError && (status < 300 || status >= 500)
    if (notOAuth || status === 502 || status === 504) return 'unknown'
    return 'answered'
  }
  if (error instanceof TokenRequestError) {
    if (stillInFlight.has(error)) return 'unknown'
    return networkCodes(error.cause).some((code) => NOT_SENT.has(code)) ? 'not-processed' : 'unknown'
  }
  return 'answered'
}

/** The `code`s on an error's cause chain (undici: TypeError → cause; happy eyeballs: AggregateError). */
function networkCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return []
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown }
  const own = typeof code === 'string' ? [code] : []
  const nested = Array.isArray(errors) ? errors.flatMap((e) => networkCodes(e, depth + 1)) : []
  return [...own, ...nested, ...networkCodes(cause, depth + 1)]
}

/**
 * Whether a failed token request may succeed if tried again: network, timeout, 429, 5xx. A
 * request that carried a refresh token (`redeeming`) is tried again only when it is known not
 * to have been processed (rule 4: a refresh token is redeemed at most once).
 */
export function isRetryable(error: unknown, redeeming = false): boolean {
  if (redeeming) return failureOutcome(error) === 'not-processed'
  if (error instanceof TokenRequestError) return true
  if (error instanceof OAuthError || error instanceof TokenResponseError) {
    const status = error.status ?? 0
    return status === 429 || status >= 500
  }
  return false
}

/**
 * Delay before attempt `attempt + 1`, ms: the server's `Retry-After` (seconds or HTTP date) when
 * it sent one, else exponential backoff with full jitter; never more than `maxDelay`.
 * @see RFC 9110 §10.2.3
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  retry: ResolvedRetryOptions,
  now: number,
  random: number,
): number {
  const header = (error as { response?: Response }).response?.headers.get('retry-after')
  if (header) {
    const seconds = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - now
    if (Number.isFinite(seconds)) return Math.min(retry.maxDelay, Math.max(0, seconds))
  }
  return Math.floor(random * Math.min(retry.maxDelay, retry.minDelay * 2 ** (attempt - 1)))
}
