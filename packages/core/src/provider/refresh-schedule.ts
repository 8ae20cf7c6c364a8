/** Background refresh retries after a failure: 1 s, 2 s, 4 s … capped here (ms). */
const MAX_BACKOFF = 30_000
/** setTimeout's largest delay (about 24.8 days). */
const MAX_TIMER = 2 ** 31 - 1

/**
 * The background refresh of one provider: a timer set for the current token's `aheadAt`, which
 * runs `refresh` when the token has been used since it arrived (an idle provider is not kept
 * fresh), at most one at a time, and backs off after failures.
 */
export function createRefreshSchedule(clock: () => number, refresh: () => Promise<unknown>) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let failures = 0
  let closed = false

  function cancel(): void {
    clearTimeout(timer)
    timer = undefined
  }

  function run(): void {
    if (running || closed) return
    running = true
    refresh()
      .catch(() => {})
      .finally(() => {
        running = false
      })
  }

  return {
    /** Runs `refresh` at `at` (epoch ms) if `isUsed()` says the token was used by then. */
    at(at: number, isUsed: () => boolean): void {
      cancel()
      if (closed) return
      const delay = Math.min(MAX_TIMER, Math.max(0, at - clock()))
      timer = setTimeout(() => {
        if (isUsed()) run()
      }, delay)
      // a pending refresh must not keep a CLI or a test process alive
      ;(timer as { unref?: () => void }).unref?.()
    },
    /** Starts the refresh now unless one is running. */
    run,
    /** A new token arrived: the backoff starts over. */
    succeeded(): void {
      failures = 0
    },
    /**
     * When to try again after a failed background refresh (epoch ms): jittered exponential
     * backoff, cut to `by` (the last start that still answers before the token stops serving)
     * while that is still ahead.
     */
    failed(by = Number.POSITIVE_INFINITY): number {
      failures++
      const backoff = Math.min(MAX_BACKOFF, 1_000 * 2 ** (failures - 1))
      const now = clock()
      const at = now + backoff * (0.5 + Math.random() / 2)
      return now < by ? Math.min(at, by) : at
    },
    cancel,
    close(): void {
      closed = true
      cancel()
    },
  }
}
