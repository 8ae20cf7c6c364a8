import { headerSafe } from '../endpoint/token-response.js'
import type { StoreEntry } from '../store.js'
import { createToken, type Token } from '../token.js'
import { type RefreshSchedule, scheduleFor } from './expiry.js'

/** Tokens invalidated recently: a shared store that has not yet caught up must not hand them back. */
const INVALIDATED_MEMORY = 16

export interface Current {
  token: Token
  entry: StoreEntry
  schedule: RefreshSchedule
  /** Whether a caller has used this token (an idle provider is not refreshed ahead). */
  used: boolean
}

/**
 * The token a provider hands out, and when it stops: while `refreshAhead` is on, a token is
 * served until its hard margin (`serveUntil`), with a background refresh started from its
 * jittered `aheadAt`; without it, until `refreshAt`.
 */
export function createCurrentToken(clock: () => number, skew: number, refreshAhead: boolean) {
  let current: Current | undefined
  const invalidated: string[] = []

  /** The last instant `cached` is handed out without a wait. */
  const servedUntil = (cached: Current) =>
    refreshAhead ? cached.schedule.serveUntil : cached.schedule.refreshAt

  return {
    get: () => current,
    /** Makes `entry` the current token; `lead`: how long the last token request took (ms). */
    adopt(entry: StoreEntry, lead: number): Current {
      const token = createToken(entry.token)
      const expiresAt = token.expiresAt ?? entry.refreshAt
      const schedule = scheduleFor(entry.obtainedAt, expiresAt, skew, Math.random(), lead)
      current = { token, entry, schedule, used: false }
      return current
    },
    /**
     * Whether a store's `entry` may be handed out: not due, not invalidated, and for a
     * `background` refresh newer than the token it replaces.
     */
    usable(entry: StoreEntry | undefined, background: boolean): entry is StoreEntry {
      if (!entry || clock() >= entry.refreshAt || invalidated.includes(entry.token.accessToken)) return false
      // a shared store's entry (Redis, another tab, another version) is checked as an answer is (rule 6)
      if (!headerSafe(entry.token.accessToken) || !headerSafe(entry.token.tokenType)) return false
      return !background || entry.obtainedAt > (current?.entry.obtainedAt ?? -Infinity)
    },
    /**
     * The current token if it may be handed out now, marked as used; `due` says a background
     * refresh should start.
     */
    peek(): { token: Token; due: boolean } | undefined {
      const cached = current
      if (!cached) return undefined
      const now = clock()
      if (now >= servedUntil(cached)) return undefined
      cached.used = true
      return { token: cached.token, due: now >= cached.schedule.aheadAt }
    },
    /** The current token while it has not reached its hard margin (stale-while-valid). */
    stillValid(): Current | undefined {
      return current && clock() < current.schedule.serveUntil ? current : undefined
    },
    /** Drops the current token if it is `accessToken`; returns whether it did. */
    drop(accessToken: string): boolean {
      if (current?.token.accessToken !== accessToken) return false
      current = undefined
      return true
    },
    /** Remembers `accessToken` as invalidated; `false` when it already was (a 401 storm). */
    remember(accessToken: string): boolean {
      if (invalidated.includes(accessToken)) return false
      invalidated.push(accessToken)
      if (invalidated.length > INVALIDATED_MEMORY) invalidated.shift()
      return true
    },
  }
}
