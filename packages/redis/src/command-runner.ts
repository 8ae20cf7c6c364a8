import type { SendCommand } from './redis-client.js'
import { RedisStoreError, sanitizeCause } from './redis-store-error.js'

export interface RunOptions {
  /** Send even while Redis is marked down. */
  always?: boolean
  /** Receives a reply that arrived after the command had timed out. */
  lateReply?: (reply: unknown) => void
}

/** Runs `fn` after the I/O already waiting in this turn of the event loop (Node, Bun and Deno have setImmediate). */
const afterIo: (fn: () => void) => void =
  (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ?? ((fn) => setTimeout(fn, 0))

/**
 * Runs commands with a time limit, and skips Redis for `outageBackoff` ms after a failure.
 * `operation` names a command in errors; its arguments (which may hold a token) never appear.
 */
export function createCommandRunner(send: SendCommand, commandTimeout: number, outageBackoff: number) {
  let downUntil = 0
  return (operation: string, args: string[], key: string, options: RunOptions = {}): Promise<unknown> => {
    if (!options.always && Date.now() < downUntil) {
      return Promise.reject(
        new RedisStoreError(`Redis ${operation} skipped: a command failed less than ${outageBackoff} ms ago`),
      )
    }
    const controller = new AbortController()
    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (error: RedisStoreError) => {
        if (settled) return
        settled = true
        downUntil = Date.now() + outageBackoff
        reject(error)
      }
      const timer = setTimeout(() => {
        // a reply read in this same turn of a busy event loop still wins over the timer
        afterIo(() => {
          if (settled) return
          controller.abort() // node-redis drops a command still queued while it reconnects
          fail(new RedisStoreError(`Redis ${operation} timed out after ${commandTimeout} ms`))
        })
      }, commandTimeout)
      ;(timer as { unref?: () => void }).unref?.()
      new Promise<unknown>((sent) => sent(send(args, key, controller.signal))).then(
        (reply) => {
          clearTimeout(timer)
          if (settled) return options.lateReply?.(reply)
          settled = true
          downUntil = 0
          resolve(reply)
        },
        (error: unknown) => {
          clearTimeout(timer)
          fail(new RedisStoreError(`Redis ${operation} failed`, { cause: sanitizeCause(error) }))
        },
      )
    })
  }
}
