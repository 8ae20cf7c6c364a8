import { failureOutcome, markUnknownOutcome } from '../endpoint/retry.js'
import { TokenRequestError } from '../errors.js'
import type { Token } from '../token.js'

/** What a redemption comes to: the answer, or `undefined` when nothing was sent (another provider or process had the refresh token first). */
type Answer = { token: Token; response: Response } | undefined

/** Refresh-token requests in flight, and refresh tokens whose redemption has an unknown outcome. */
export interface Redemptions {
  /**
   * Redeems `refreshToken` with `send`, or joins the redemption already under way, and waits at
   * most `wait` ms. When the wait ends first the redemption goes on, with the leases and links
   * it holds (rule 4: the refresh token may be spent, so it is never sent again); its answer, if
   * it comes, goes to `onLate`. `send` calls `sending` right before the request goes out: a
   * failure before it (the store's word was not had) leaves the refresh token as it was.
   */
  redeem(refreshToken: string, send: (sending: () => void) => Promise<Answer>, wait: number): Promise<Answer>
  /** Whether a request with `refreshToken` may have been processed, and its answer is lost. */
  inDoubt(refreshToken: string): boolean
  /** Another process's request with `refreshToken` may have been processed: it is in doubt here too. */
  doubt(refreshToken: string): void
  /** Resolves once no request is in flight and every late answer has been handled. */
  idle(): Promise<void>
}

interface InFlight {
  answer: Promise<Answer>
  /** Callers still waiting on it: when it settles with none left, the answer is late. */
  waiting: number
  /** Whether the request went out: only then may a failure have spent the refresh token. */
  sent: boolean
}

/**
 * Tracks refresh-token redemptions. `onLate` receives an answer nobody waited for any more (it
 * adopts the token); `onLateFailure` a failure nobody waited for.
 */
export function createRedemptions(
  onLate: (answer: NonNullable<Answer>, refreshToken: string) => Promise<void>,
  onLateFailure: (error: unknown, refreshToken: string) => void,
): Redemptions {
  const inFlight = new Map<string, InFlight>()
  const doubtful = new Set<string>()
  const handling = new Set<Promise<void>>()
  let idleWaiters: (() => void)[] = []

  const settleIdle = () => {
    if (inFlight.size > 0 || handling.size > 0) return
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  function start(refreshToken: string, send: (sending: () => void) => Promise<Answer>): InFlight {
    const flight: InFlight = { answer: Promise.resolve(undefined), waiting: 0, sent: false }
    flight.answer = send(() => {
      flight.sent = true
    })
    inFlight.set(refreshToken, flight)
    /** Runs the late handler; until it is done, a caller joins this answer instead of sending again. */
    const settle = (late: (() => Promise<void> | void) | undefined) => {
      if (!late) {
        inFlight.delete(refreshToken)
        return settleIdle()
      }
      const task = (async () => late())().catch(() => {})
      handling.add(task)
      void task.finally(() => {
        handling.delete(task)
        if (inFlight.get(refreshToken) === flight) inFlight.delete(refreshToken)
        settleIdle()
      })
    }
    flight.answer.then(
      (answer) => settle(flight.waiting === 0 && answer ? () => onLate(answer, refreshToken) : undefined),
      (error: unknown) => {
        if (flight.sent && failureOutcome(error) === 'unknown') doubtful.add(refreshToken)
        settle(flight.waiting === 0 ? () => onLateFailure(error, refreshToken) : undefined)
      },
    )
    return flight
  }

  return {
    redeem(refreshToken, send, wait) {
      const flight = inFlight.get(refreshToken) ?? start(refreshToken, send)
      flight.waiting++
      return new Promise<Answer>((resolve, reject) => {
        const timer = setTimeout(() => {
          flight.waiting--
          reject(
            markUnknownOutcome(
              new TokenRequestError(
                `token request timed out after ${wait} ms (its answer is still awaited: the refresh token is not sent again)`,
              ),
            ),
          )
        }, wait)
        flight.answer.then(
          (answer) => {
            clearTimeout(timer)
            resolve(answer)
          },
          (error: unknown) => {
            clearTimeout(timer)
            reject(error)
          },
        )
      })
    },
    inDoubt: (refreshToken) => doubtful.has(refreshToken),
    doubt(refreshToken) {
      doubtful.add(refreshToken)
    },
    idle() {
      if (inFlight.size === 0 && handling.size === 0) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
  }
}
