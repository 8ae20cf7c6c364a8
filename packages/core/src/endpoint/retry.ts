import { OAuthError, TokenRequestError, TokenResponseError } from '../errors.js'
import type { ResolvedRetryOptions } from '../provider/options.js'

/** Whether a failed token request may succeed if tried again: network, timeout, 429, 5xx. */
export function isRetryable(error: unknown): boolean {
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
