import { inspectSymbol } from '../redact.js'
import { dropGrantHeaders } from './last-word.js'
import { scrubSecrets } from './scrub.js'
import type { Grant } from './shape.js'

/** What removes the abort listener of each request's headers: one per request, for as long as it runs. */
const listening = new WeakMap<object, () => void>()

/**
 * Takes what `grant` put on `headers` (its `authorization`, and its `dpop` proof; a fetch `Headers`
 * or a record) off them once `signal` aborts, for a client whose abort or timeout error holds the
 * request and reaches the caller through no hook of the adapter (ky's `TimeoutError`, got's
 * `AbortError`): an abort's listeners run before that error is thrown, and an aborted request sends
 * nothing more. Each call first removes the listener an earlier one left on `headers`; without a
 * signal and a grant that sends a token (a request that ended), that is all it does: a signal the
 * caller gives many requests gathers no listener per request.
 * @see DESIGN.md rule 5
 */
export function dropGrantOnAbort(
  headers: Headers | Record<string, unknown>,
  signal?: AbortSignal,
  grant?: Grant,
): void {
  listening.get(headers)?.()
  listening.delete(headers)
  if (!signal || signal.aborted || grant?.authorization === undefined) return
  const drop = () => dropGrantHeaders(headers, grant)
  signal.addEventListener('abort', drop, { once: true })
  listening.set(headers, () => signal.removeEventListener('abort', drop))
}

/**
 * Makes the next `request.clone()` a copy without what `grant` put on the request (its
 * `authorization` and `dpop`, where they still hold its values), for a client that sends the
 * request and keeps such a clone for what comes after (ky hands it to its `afterResponse` and
 * `beforeRetry` hooks and its `HTTPError`, and sends it again on a retry, which the adapter
 * authorizes anew): a caller's hook that runs before the adapter's `beforeError`, or re-sends that
 * request with a client of its own, gets neither. Once; `restoreClone` undoes it before the send,
 * so a fetch that clones the request it sends (a retry wrapper) clones it whole.
 * @see DESIGN.md rules 5 and 6
 */
export function keepGrantOffClone(request: Request, grant: Grant): void {
  if (grant.authorization === undefined) return
  Object.defineProperty(request, 'clone', {
    configurable: true,
    value: () => {
      restoreClone(request)
      const copy = request.clone()
      dropGrantHeaders(copy.headers, grant)
      return copy
    },
  })
}

/** Undoes `keepGrantOffClone`: `request.clone()` copies it whole again. */
export const restoreClone = (request: Request): void => {
  delete (request as Partial<Request>).clone
}

/** A Node `ClientRequest`, or what an abort error holds of it. */
type Closing = { once(event: 'close', listener: () => void): unknown }

/**
 * Once `signal` aborts, scrubs each Node `ClientRequest` that `client` emits as `request` (got's
 * promise or stream, one per attempt; their raw head and header map hold the token) of what
 * `grant()` then names: a client's abort error that holds one reaches the caller through no hook
 * of the adapter (got's `AbortError`). Each listener goes when its request closes, so a signal
 * given to many requests gathers none. Without a signal, nothing.
 * @see DESIGN.md rule 5
 */
export function scrubOnAbort(
  client: { on(event: 'request', listener: (request: Closing) => void): unknown },
  signal: unknown,
  grant: () => Grant | null | undefined,
): void {
  if (!(signal instanceof AbortSignal)) return
  client.on('request', (request) => {
    const scrub = () => {
      const { authorization, proof } = grant() ?? {}
      if (authorization !== undefined)
        scrubSecrets(request, [authorization], proof === undefined ? [] : [proof])
    }
    signal.addEventListener('abort', scrub, { once: true })
    request.once('close', () => signal.removeEventListener('abort', scrub))
  })
}

/**
 * A request's latest attempt, which a cancel ends: the headers and Node request it went with (for
 * `scrubOnCancel`). It prints as `Attempt {}`: got's options print each object they reach anew, and
 * the context holding this one is among their fields.
 */
export class Attempt {
  [inspectSymbol](): string {
    return 'Attempt {}'
  }
  headers: object | undefined = undefined
  request: object | undefined = undefined
  /** Set by `scrubOnCancel`: the adapter puts no token on what got still sends of it. */
  canceled = false
  /** Notes `headers` as the attempt's; whether it was cancelled (then nothing goes on them). */
  note(headers: object): boolean {
    this.headers = headers
    return this.canceled
  }
}

/** A client's promise that `cancel()` rejects with an error holding the attempt it ended (got's `PCancelable`). */
interface Cancelable {
  on(event: 'request', listener: (request: object) => void): unknown
  cancel?: (reason?: string) => void
  readonly isCanceled?: boolean
}

/**
 * Makes `promise.cancel()` scrub, with `scrub`, `attempt`: got's `CancelError` holds the options
 * and the request of the attempt it ended (their headers, the Node `ClientRequest`'s raw head,
 * hold the token) and reaches the caller through no hook of the adapter. `cancel()` makes the
 * error and rejects with it; the caller's reactions run after it returns, so after the scrub. The
 * adapter keeps `attempt.headers` current; `attempt.request` is each attempt's `request` event.
 * Nothing for a promise without `cancel` (a stream).
 * @see DESIGN.md rule 5
 */
export function scrubOnCancel(
  promise: Cancelable,
  attempt: Attempt,
  scrub: (value: object) => unknown,
): void {
  const cancel = promise.cancel
  if (typeof cancel !== 'function') return
  promise.on('request', (request) => {
    attempt.request = request
  })
  promise.cancel = (reason) => {
    cancel.call(promise, reason)
    if (!promise.isCanceled) return // it had settled: cancel() did nothing
    attempt.canceled = true
    scrub(attempt)
  }
}
