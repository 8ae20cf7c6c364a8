import type { TokenData } from './token.js'

/** What a store keeps for a cache key. Contains secrets: a shared store should encrypt it. */
export interface StoreEntry {
  token: TokenData
  /** When core stops handing this token out and fetches a new one, epoch ms. */
  refreshAt: number
  /** When the token was obtained, epoch ms. */
  obtainedAt: number
  /** SHA-256 of the access token (hex): lets a store compare-and-delete without reading secrets. */
  fingerprint: string
}

/**
 * Whether a value read back from a shared store (JSON, another tab's message) has the shape of a
 * `StoreEntry`. A store that hands out what fails this is trusting its medium; treat it as a miss.
 */
export function isStoreEntry(value: unknown): value is StoreEntry {
  const entry = value as Partial<StoreEntry> | null
  const token = entry?.token
  return (
    typeof entry === 'object' &&
    typeof entry?.fingerprint === 'string' &&
    Number.isFinite(entry.refreshAt) &&
    Number.isFinite(entry.obtainedAt) &&
    typeof token === 'object' &&
    token !== null &&
    typeof token.accessToken === 'string' &&
    typeof token.tokenType === 'string' &&
    typeof token.raw === 'object' &&
    token.raw !== null
  )
}

/**
 * A fleet-wide lease to fetch one key's token: calling it releases it (only if it is still ours).
 */
export interface StoreLease {
  (): Promise<void>
  /** Keeps the lease for `ttl` ms more; resolves `false` when it is no longer ours. */
  extend?(ttl: number): Promise<boolean>
  /**
   * How long one `extend` keeps the lease, ms, when the store decides that itself (its own lock
   * TTL) rather than taking core's `lockTtl`: core then extends every third of this.
   */
  readonly ttl?: number | undefined
  /**
   * Stores `entry` only if no process has taken the lease since this one was acquired (a fenced
   * write: a holder whose lease was taken over never overwrites a newer result). Resolves
   * whether it wrote.
   */
  set?(entry: StoreEntry, ttl: number): Promise<boolean>
  /**
   * Marks the refresh token this holder is about to redeem (its SHA-256 `fingerprint`), only if
   * the lease is still ours; `undefined` clears the mark. Resolves `false` when the lease is no
   * longer ours: core then does not send the request. Core clears the mark once the redemption's
   * outcome is known; a mark left behind (the holder died or stalled mid-request) reaches the
   * next holder as `inDoubt`.
   */
  redeeming?(fingerprint: string | undefined): Promise<boolean>
  /**
   * The fingerprint of a refresh token a previous holder marked and never cleared: its request
   * may have been processed, so core never redeems that refresh token again (rule 4). A grant
   * that cannot start over without it waits for that holder's answer instead, as long as it may
   * come: a store's fenced write keeps the write of the holder whose mark still stands.
   */
  readonly inDoubt?: string | undefined
}

/**
 * Where tokens are cached. Every method may fail: core treats a failure as a cache miss and
 * reports it through events, never as a failed request, except that a refresh token is not
 * redeemed while `acquireLease` or `getRefreshToken` fails (another process may be redeeming it).
 *
 * A shared store (Redis) may also offer the optional coordination methods; core uses them when
 * present so that one process in a fleet fetches while the others wait and read.
 */
export interface TokenStore {
  get(key: string): Promise<StoreEntry | undefined>
  /** Stores `entry`; `ttl` (ms) is how long it may be served, so a store never serves an expired token. */
  set(key: string, entry: StoreEntry, ttl: number): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Deletes the entry only if it still holds the token with this `fingerprint`, atomically.
   * Returns whether it deleted. Without it, core reads, compares and deletes.
   */
  compareAndDelete?(key: string, fingerprint: string): Promise<boolean>
  /**
   * Takes the fleet-wide lease to fetch the token for `key` for `ttl` ms. Resolves to the lease
   * (a release function, optionally with `extend` and a fenced `set`) when this process holds
   * it, or `undefined` when another process does. Core asks for a `ttl` that covers its whole
   * attempt (for a store whose leases cannot be extended); a lease that has `extend` core cuts
   * at once to `lockTtl` and extends every third of it while its request may still be answered,
   * so a holder that dies leaves the fleet waiting `lockTtl` at most.
   */
  acquireLease?(key: string, ttl: number): Promise<StoreLease | undefined>
  /**
   * Waits at most `timeout` ms for another process (the lease holder) to store an entry for `key`
   * that `accept` approves (core accepts one that is fresh and not invalidated), and returns it;
   * `undefined` on timeout. Check the current value too: the holder may have stored it already.
   * Resolve `undefined` early once no process holds the lease (its holder failed or died): core
   * then tries to take the lease itself, so one waiter, not every waiter, fetches instead.
   */
  waitForEntry?(
    key: string,
    timeout: number,
    accept: (entry: StoreEntry) => boolean,
  ): Promise<StoreEntry | undefined>
  /**
   * The newest refresh token stored for `key`, kept after its access token expired or was
   * invalidated. Core reads it while holding the lease and redeems it instead of its own copy,
   * so a process never spends a refresh token that another process has already rotated.
   */
  getRefreshToken?(key: string): Promise<string | undefined>
}

/**
 * The default store: a map in this process, with entries dropped once their TTL passes. Two
 * providers with the same options may share one: a lease per key makes them fetch one at a time
 * (the other waits for what the first stores), and the newest refresh token stays after its
 * entry is invalidated, so neither redeems one the other has rotated (rule 4). The holder marks
 * the refresh token it redeems on its lease (`StoreLease.redeeming`); a mark it leaves because
 * the outcome is unknown (it gave up on a slow server that may still have redeemed it) is the
 * next lease's `inDoubt`: the other provider never sends that refresh token. Its grant starts
 * over if it can; if not, it waits for the holder's answer as long as one may come, else fails
 * with `AuthorizationError`. Writes are not fenced (`set` is the store's own): a lease lives as
 * long as its holder may still be redeeming, and a stalled holder's late write is that answer.
 */
export function createMemoryTokenStore(options: { clock?: () => number } = {}): TokenStore {
  const clock = options.clock ?? (() => Date.now())
  const entries = new Map<string, { entry: StoreEntry; until: number }>()
  const refreshTokens = new Map<string, string>()
  const leases = new Map<string, { until: number }>()
  /** Per key, the fingerprint of the refresh token a lease holder marked and has not cleared. */
  const marks = new Map<string, string>()
  /** Waiters check again whenever an entry is stored or a lease released. */
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const check of waiters) check()
  }
  // a lease's life on the monotonic clock: a wall clock stepped forward (NTP) must not end a lease
  // whose holder is still redeeming, and let another provider redeem the same refresh token
  const held = (key: string) => (leases.get(key)?.until ?? 0) > performance.now()
  const read = (key: string) => {
    const hit = entries.get(key)
    if (hit && hit.until <= clock()) entries.delete(key)
    return hit && hit.until > clock() ? hit.entry : undefined
  }
  const store: TokenStore = {
    get: async (key) => read(key),
    async set(key, entry, ttl) {
      entries.set(key, { entry, until: clock() + ttl })
      if (entry.token.refreshToken !== undefined) refreshTokens.set(key, entry.token.refreshToken)
      wake()
    },
    async delete(key) {
      entries.delete(key)
      refreshTokens.delete(key)
    },
    async compareAndDelete(key, fingerprint) {
      return entries.get(key)?.entry.fingerprint === fingerprint && entries.delete(key)
    },
    async acquireLease(key, ttl) {
      if (held(key)) return undefined
      const lease = { until: performance.now() + ttl }
      leases.set(key, lease)
      const release = async () => {
        if (leases.get(key) === lease) leases.delete(key)
        wake()
      }
      return Object.assign(release, {
        // a mark the last holder left when it let go or its lease ran out: that redemption may be done
        inDoubt: marks.get(key),
        async redeeming(fingerprint: string | undefined) {
          if (leases.get(key) !== lease || !held(key)) return false
          if (fingerprint === undefined) marks.delete(key)
          else marks.set(key, fingerprint)
          return true
        },
      })
    },
    waitForEntry: (key, timeout, accept) =>
      new Promise((resolve) => {
        const done = (entry?: StoreEntry) => {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(entry)
        }
        const check = () => {
          const entry = read(key)
          if (entry && accept(entry)) done(entry)
          else if (!held(key)) done()
        }
        const timer = setTimeout(done, timeout)
        waiters.add(check)
        check()
      }),
    getRefreshToken: async (key) => refreshTokens.get(key),
  }
  // one process's: its providers share refresh tokens through the in-process registry already
  return Object.defineProperty(store, IN_PROCESS, { value: true })
}

/** Marks a store no other process can reach (the memory store): refresh-token families skip it. */
export const IN_PROCESS = Symbol('tokenwell.store.inProcess')
