import { TokenRequestError } from '../errors.js'
import type { StoreEntry, StoreLease } from '../store.js'
import { answerTimeout } from './attempt-loop.js'
import type { ResolvedTokenProviderOptions } from './options.js'

/** Calls the store; a failure is reported and becomes `undefined` (a cache miss). */
export type StoreCall = <T>(operation: string, call: () => Promise<T> | undefined) => Promise<T | undefined>

/** What the coordinator needs from the provider. */
export interface CoordinationHooks {
  /** Whether a store's entry may be handed out (see `CurrentToken.usable`). */
  usable(entry: StoreEntry | undefined, background: boolean): entry is StoreEntry
  /** Before fetching under the lease: adopt the refresh token the store holds. */
  beforeFetch(key: string): Promise<void>
  /** Whether the next token request would redeem a refresh token. */
  redeems(): boolean
  /** Resolves once no refresh request of this provider is still in flight. */
  idle(): Promise<void>
}

/**
 * The longest a lease holder may still be redeeming after it began, ms: the last retry starts
 * before the retry deadline, and a refresh request is awaited for `answerTimeout` after that.
 */
export function holdBound(options: ResolvedTokenProviderOptions): number {
  return options.retry.deadline + answerTimeout(options)
}

/**
 * Fleet-wide single-flight over a shared store: one process holds the lease and fetches, the
 * others wait for what it stores. The lease lives as long as its holder may still be redeeming
 * (a lease with `extend` is extended every third of `lockTtl` until the holder's last request
 * has been answered or given up), what the holder writes is fenced, and a waiter never redeems
 * a refresh token while a live holder may still be redeeming it.
 */
export function createStoreCoordination(
  options: ResolvedTokenProviderOptions,
  storeCall: StoreCall,
  hooks: CoordinationHooks,
) {
  const { store, clock, lockTtl } = options
  /** The lease this provider holds, kept while a late answer may still come. */
  let held: { key: string; lease: StoreLease } | undefined

  function storeTtl(entry: StoreEntry): number {
    const until = Math.max(entry.token.expiresAt ?? entry.refreshAt, entry.refreshAt)
    return Math.max(1, until - clock())
  }

  /** Writes `entry`, through the held lease's fenced write when there is one. */
  async function write(key: string, entry: StoreEntry): Promise<void> {
    const lease = held?.key === key ? held.lease : undefined
    const fenced = lease?.set?.bind(lease)
    if (fenced) await storeCall('set', () => fenced(entry, storeTtl(entry)))
    else await storeCall('set', () => store.set(key, entry, storeTtl(entry)))
  }

  /** Extends `lease` to `ttl` every third of `lockTtl` until `stop` is called. */
  function keepAlive(lease: StoreLease, ttl: number): () => void {
    const extend = lease.extend?.bind(lease)
    if (!extend) return () => {}
    const timer = setInterval(
      () => void storeCall('extendLease', () => extend(ttl)),
      Math.max(1, lockTtl / 3),
    )
    ;(timer as { unref?: () => void }).unref?.()
    return () => clearInterval(timer)
  }

  /** Holds `lease` until `done` settles and no late answer is pending, then releases it. */
  function hold(key: string, lease: StoreLease, stop: () => void, done: Promise<unknown>): void {
    held = { key, lease }
    void done
      .catch(() => {})
      .then(() => hooks.idle())
      .finally(() => {
        stop()
        if (held?.lease === lease) held = undefined
        void storeCall('release', () => lease())
      })
  }

  /** Gets an entry for `key`: from the store under the fleet's single-flight, or `fetch`ed. */
  async function obtain(
    key: string,
    force: boolean,
    background: boolean,
    fetch: () => Promise<StoreEntry>,
  ): Promise<{ entry: StoreEntry; source: 'store' | 'endpoint' }> {
    const started = clock()
    const acquire = store.acquireLease?.bind(store)
    const wait = store.waitForEntry?.bind(store)
    // a waiter outlives a live holder's whole attempt; a dead holder's lease expires after lockTtl
    const deadline = started + holdBound(options) + lockTtl
    let lease: { lease: StoreLease; stop: () => void } | undefined
    while (acquire) {
      // a lease for a refresh lasts the holder's whole attempt: extending it can stall with the
      // event loop, and a takeover would then redeem the refresh token a second time
      const ttl = hooks.redeems() ? Math.max(lockTtl, holdBound(options)) : lockTtl
      const got = await storeCall('acquireLease', () => acquire(key, ttl).then((r) => r ?? null))
      if (got === null) {
        // another process is fetching: wait for its token rather than ask the server again
        const timeout = Math.min(lockTtl, deadline - clock())
        // rule 4: past a live holder's whole attempt, a refresh token is still not redeemed twice
        if (timeout <= 0 && hooks.redeems()) throw leaseHeld(clock() - started)
        if (!wait || timeout <= 0) break
        const entry = await storeCall('waitForEntry', () =>
          wait(key, timeout, (e) => hooks.usable(e, background)),
        )
        if (hooks.usable(entry, background)) return { entry, source: 'store' }
        // no token, and the lease is free again (its holder failed or died): try to take it
        continue
      }
      if (got) {
        const stop = keepAlive(got, ttl)
        if (!force) {
          // it may have been stored between our read and the lease
          const entry = await storeCall('get', () => store.get(key))
          if (hooks.usable(entry, background)) {
            stop()
            await storeCall('release', () => got())
            return { entry, source: 'store' }
          }
        }
        await hooks.beforeFetch(key)
        // still ours right before the request goes out? (a stalled process may have lost it)
        const extend = got.extend?.bind(got)
        if (extend && (await storeCall('extendLease', () => extend(ttl))) === false) {
          stop()
          continue
        }
        lease = { lease: got, stop }
      }
      break
    }
    // the lease is held until the new refresh token is stored: released earlier, another
    // process would read the spent one and redeem it again
    const work = (async () => {
      const entry = await fetch()
      await write(key, entry)
      return entry
    })()
    if (lease) hold(key, lease.lease, lease.stop, work)
    return { entry: await work, source: 'endpoint' }
  }

  return { obtain, write }
}

function leaseHeld(ms: number): TokenRequestError {
  return new TokenRequestError(
    `another process has held the token lease for ${ms} ms without storing a token; its refresh token is not redeemed twice`,
  )
}
