import type * as Errors from '../errors.js'
import type { DeviceCodeGrant, DevicePoll } from '../grants/grants.js'

export type { DevicePoll } from '../grants/grants.js'

/** What a `slow_down` answer adds to the interval, ms. @see RFC 8628 §3.5 */
const SLOW_DOWN = 5_000
/** setTimeout's largest delay (about 24.8 days). */
const MAX_TIMER = 2 ** 31 - 1

/**
 * The poll loop of one provider's device code grant. Its interval survives retries (a
 * `slow_down` is for good), and once the user denied or the code expired, it never polls again.
 * Timers are plain `setTimeout`s (fake-timer friendly) and stay referenced: a process waiting
 * for the user must not exit. `errors` are core's error classes (a module loaded through
 * `import()` imports none of core: see test/lazy-modules.test.ts).
 * @see RFC 8628 §3.4, §3.5
 */
export function createDevicePoll(
  grant: DeviceCodeGrant & { interval: number },
  clock: () => number,
  errors: Pick<typeof Errors, 'AuthorizationError' | 'OAuthError'>,
): DevicePoll {
  const { AuthorizationError, OAuthError } = errors
  let interval = grant.interval
  let ended: Errors.AuthorizationError | undefined
  const expired = (cause?: unknown) =>
    new AuthorizationError('the device code expired before the user approved it: start again', {
      error: 'expired_token',
      ...(cause !== undefined && { cause }),
    })

  /** Ends the flow for good: no later call polls again. */
  const end = (error: Errors.AuthorizationError): never => {
    ended = error
    throw error
  }

  /** What the callers of a poll get when the provider is closed (`stop` aborted). */
  const closed = () =>
    new AuthorizationError('the provider was closed before the device authorization was approved')

  /** When the last poll was answered (or failed), epoch ms; the next waits `interval` from there. */
  let answeredAt: number | undefined

  return async (send, onAnswer, stop) => {
    for (;;) {
      if (ended) throw ended
      // measured from the last answer, so a retry after a network failure keeps the pace too
      const wait = answeredAt === undefined ? 0 : Math.max(0, answeredAt + interval - clock())
      // a poll at or after expiry would only be answered expired_token: say so now
      if (grant.expiresAt !== undefined && clock() + wait >= grant.expiresAt) end(expired())
      if (wait > 0) await sleep(Math.min(wait, MAX_TIMER), stop, closed)
      try {
        return await send()
      } catch (error) {
        answeredAt = clock()
        if (!(error instanceof OAuthError)) throw error
        switch (error.error) {
          case 'authorization_pending':
            break
          case 'slow_down':
            // RFC 8628 §3.5: for this and every later request
            interval += SLOW_DOWN
            break
          case 'access_denied':
            end(
              new AuthorizationError('the user denied the device authorization', {
                error: 'access_denied',
                ...(error.errorDescription !== undefined && { errorDescription: error.errorDescription }),
                cause: error,
              }),
            )
            break
          case 'expired_token':
            end(expired(error))
            break
          default:
            throw error
        }
      }
      onAnswer()
    }
  }
}

function sleep(ms: number, stop: AbortSignal, closed: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stop.aborted) return reject(closed())
    const onStop = () => {
      clearTimeout(timer)
      reject(closed())
    }
    const timer = setTimeout(() => {
      stop.removeEventListener('abort', onStop)
      resolve()
    }, ms)
    stop.addEventListener('abort', onStop, { once: true })
  })
}
