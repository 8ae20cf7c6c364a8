import type { StoreEntry, StoreLease } from '../store.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { holdBound, keepLeaseAlive, leaseHeld, type StoreCall, storeDown } from './store-lease.js'

/** What the coordinator needs from the provider. */
export interface CoordinationHooks {
  /** Whether a store's entry may be handed out (see `CurrentToken.usable`). */
  usable(entry: StoreEntry | undefined, background: boolean): entry is StoreEntry
  /**
   * Before fetching under the lease: adopt the refresh token the store holds. `false` when the
   * store could not be read and the request would redeem a refresh token (it may be spent).
   */
  beforeFetch(key: string): Promise<boolean>
  /** Whether the next token request would redeem a refresh token. */
  redeems(): boolean
  /** Whether the grant can start over without its refresh token (client credentials, password). */
  readonly restarts: boolean
  /** The refresh token the next request would redeem, by fingerprint, and whether that is in doubt. */
  redeeming(): Promise<{ fingerprint: string; inDoubt: () => boolean } | undefined>
  /** A previous lease holder may have redeemed the refresh token with this fingerprint. */
  doubt(fingerprint: string): Promise<void>
  /** Resolves once no refresh request of this provider is still in flight. */
  idle(): Promise<void>
}

/**
 * Fleet-wide single-flight over a shared store: one process holds the lease and fetches, the
 * others wait for what it stores. The lease lives as long as its holder may still be redeeming:
 * a lease with `extend` lives `lockTtl` and is extended every third of it until the holder's
 * last request has been answered or given up (at most the whole attempt), so a holder that dies
 * costs the fleet `lockTtl` at most. What the holder writes is fenced, and the refresh token it
 * redeems is marked on the lease first: a process that takes the lease over from a holder that
 * died or stalled mid-request never redeems that refresh token again.
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
    if (fenced) await storeCall('set', () => fenced(entry, storeTtl(entry)), entry.token)
    else await storeCall('set', () => store.set(key, entry, storeTtl(entry)), entry.token)
  }

  const keepAlive = (lease: StoreLease) => keepLeaseAlive(lease, options, storeCall)

  /**
   * Holds `lease` until `done` settles and no late answer is pending, then releases it, clearing
   * the mark of the refresh token it redeemed unless that redemption is still in doubt.
   */
  function hold(
    key: string,
    lease: StoreLease,
    stop: () => void,
    done: Promise<unknown>,
    marked: { inDoubt: () => boolean } | undefined,
  ): void {
    held = { key, lease }
    const clear = lease.redeeming?.bind(lease)
    void done
      .catch(() => {})
      .then(() => hooks.idle())
      .then(async () => {
        if (marked && clear && !marked.inDoubt()) await storeCall('redeeming', () => clear(undefined))
      })
      .finally(() => {
        stop()
        if (held?.lease === lease) held = undefined
        void storeCall('release', () => lease())
      })
  }

  /**
   * Right before the request goes out: the lease must still be ours (a stalled process may have
   * lost it), and the refresh token it will redeem is marked on it. Resolves `false` when the
   * lease is lost, else what was marked.
   */
  async function claim(lease: StoreLease): Promise<false | { inDoubt: () => boolean } | undefined> {
    // a previous holder died or stalled while redeeming: its refresh token may be spent (rule 4)
    if (lease.inDoubt !== undefined) await hooks.doubt(lease.inDoubt)
    const mark = lease.redeeming?.bind(lease)
    const redeeming = mark ? await hooks.redeeming() : undefined
    if (mark && redeeming) {
      const ours = await storeCall('redeeming', () => mark(redeeming.fingerprint))
      return ours === false ? false : redeeming
    }
    const extend = lease.extend?.bind(lease)
    if (extend && (await storeCall('extendLease', () => extend(lockTtl))) === false) return false
    return undefined
  }

  /**
   * A previous holder marked the refresh token this provider would redeem, and its lease ran
   * out: it died, or it stalled and its answer may still come (a stalled holder's write is kept
   * while its mark stands). A grant that can start over does; one that cannot waits, holding
   * the lease, as long as that answer may come, instead of declaring the refresh token spent.
   */
  async function answerOfStalledHolder(
    key: string,
    lease: StoreLease,
    background: boolean,
  ): Promise<StoreEntry | undefined> {
    const wait = store.waitForEntry?.bind(store)
    if (lease.inDoubt === undefined || hooks.restarts || !wait) return undefined
    if ((await hooks.redeeming())?.fingerprint !== lease.inDoubt) return undefined
    const entry = await storeCall('waitForEntry', () =>
      wait(key, holdBound(options), (e) => hooks.usable(e, background)),
    )
    return hooks.usable(entry, background) ? entry : undefined
  }

  /** Gets an entry for `key`: from the store under the fleet's single-flight, or `fetch`ed. */
  async function obtain(
    key: string,
    force: boolean,
    background: boolean,
    fetch: () => Promise<StoreEntry>,
  ): Promise<{ entry: StoreEntry; source: 'store' | 'endpoint' }> {
    const started = clock()
    // a forced refresh takes a stored token only if newer than its own, as a background one does:
    // the lease its last fetch held may not be released yet, and that fetch's token is no answer
    const newer = background || force
    const acquire = store.acquireLease?.bind(store)
    const wait = store.waitForEntry?.bind(store)
    // a waiter outlives a live holder's whole attempt; a dead holder's lease expires after lockTtl
    const deadline = started + holdBound(options) + lockTtl
    let lease: { lease: StoreLease; stop: () => void; marked?: { inDoubt: () => boolean } } | undefined
    while (acquire) {
      // asked for the whole attempt when it redeems, for a store whose leases cannot be extended;
      // one that can is cut to lockTtl at once (keepAlive)
      const ttl = hooks.redeems() ? Math.max(lockTtl, holdBound(options)) : lockTtl
      const got = await storeCall('acquireLease', () => acquire(key, ttl).then((r) => r ?? null))
      // the store failed: other processes may be redeeming the same refresh token without it (rule 4)
      if (got === undefined && hooks.redeems()) throw storeDown('acquireLease')
      if (got === null) {
        // another process is fetching: wait for its token rather than ask the server again
        const timeout = Math.min(lockTtl, deadline - clock())
        // rule 4: past a live holder's whole attempt, a refresh token is still not redeemed twice
        if (timeout <= 0 && hooks.redeems()) throw leaseHeld(clock() - started)
        if (!wait || timeout <= 0) break
        const entry = await storeCall('waitForEntry', () => wait(key, timeout, (e) => hooks.usable(e, newer)))
        if (hooks.usable(entry, newer)) return { entry, source: 'store' }
        // no token, and the lease is free again (its holder failed or died): try to take it
        continue
      }
      if (got) {
        const stop = keepAlive(got)
        /** Hands the lease back unused: this provider does not fetch under it. */
        const letGo = async () => {
          stop()
          await storeCall('release', () => got())
        }
        if (!force) {
          // it may have been stored between our read and the lease
          const entry = await storeCall('get', () => store.get(key))
          if (hooks.usable(entry, newer)) {
            await letGo()
            return { entry, source: 'store' }
          }
        }
        if (!(await hooks.beforeFetch(key))) {
          await letGo()
          throw storeDown('getRefreshToken')
        }
        const handedOver = await answerOfStalledHolder(key, got, newer)
        if (handedOver) {
          await letGo()
          return { entry: handedOver, source: 'store' }
        }
        const claimed = await claim(got)
        if (claimed === false) {
          stop()
          continue
        }
        lease = { lease: got, stop, ...(claimed && { marked: claimed }) }
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
    if (lease) hold(key, lease.lease, lease.stop, work, lease.marked)
    return { entry: await work, source: 'endpoint' }
  }

  return { obtain, write }
}
