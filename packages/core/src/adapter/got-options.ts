import { inspectSymbol } from '../redact.js'
import { dropGrantOnAbort } from './abort-drop.js'
import { quietAnswer } from './quiet-answer.js'
import type { Grant } from './shape.js'

// What a got adapter does with got's own objects that no rule of the protocol covers: its replay
// through `retryWithMergedOptions`, and its errors, whose `Options` print without end.

/**
 * The replay of a request through got's `retryWithMergedOptions` (`retry`): got counts it as a
 * retry, so the retry limit (`limit`, got's default 2) goes up by one and got's own retries stay;
 * with `preserveHooks` (got 14.5 and later) the caller's later `afterResponse` hooks see it, and an
 * older got, which refuses that option, replays without it.
 */
export async function replayThroughGot<T>(
  retry: (options: object) => Promise<T>,
  limit: number | undefined,
): Promise<T> {
  const merged = { retry: { limit: (limit ?? 2) + 1 } }
  try {
    return await retry({ preserveHooks: true, ...merged })
  } catch (error) {
    if ((error as Error)?.name === 'RetryError') throw error // got's way of starting the replay
    return retry(merged) // an older got: "Unexpected option: preserveHooks"
  }
}

/**
 * Scrubs got's `error` with `scrub` for the caller: its options' abort listener goes (the request
 * ended), and they print their fields once (got's own `inspect` prints them through a new
 * `util.inspect`, with no depth and no cycle check: options that reach themselves again print
 * without end). `sent`: the grant of its last send, whose proof may be echoed in it (its headers
 * no longer hold it: see `quietAnswer`). Returns the error.
 */
export function scrubGotError<E extends { options?: unknown }>(
  error: E,
  scrub: (error: E, sent?: Grant) => E,
  sent: Grant | null | undefined,
): E {
  const options = error.options as { headers?: Record<string, unknown>; _internals?: object } | undefined
  if (options?.headers) dropGrantOnAbort(options.headers)
  const fields = options?._internals
  if (fields) Object.defineProperty(options, inspectSymbol, { value: () => fields, configurable: true })
  return scrub(error, sent ?? undefined)
}

/** What of got's error a retry starts from (its `beforeRetry` hooks get it) holds what went. */
interface RetryError {
  options: { headers: Record<string, unknown> }
  request?: unknown
  response?: unknown
}

/**
 * got's error a retry starts from, which got hands to the caller's `beforeRetry` hooks, quiet as
 * `quietAnswer` makes a response: its options' headers lose the token and proof (the adapter's
 * `beforeRequest` puts them back on the retry), and so does its Node request, sent and done
 * (answered, or failed).
 */
export function scrubRetryError(error: RetryError, grant: Grant | null | undefined): void {
  quietAnswer(
    error,
    error.options.headers,
    error.request ?? (error.response as { req?: unknown })?.req,
    grant,
  )
}
