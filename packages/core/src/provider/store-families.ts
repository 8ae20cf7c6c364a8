/**
 * Rule 4 across the processes (or tabs) of a shared store. families.ts keeps the providers of one
 * process from redeeming one refresh token twice; processes that share a store but not a cache
 * key (another scope or resource) share no lease and no stored refresh token. Each refresh token
 * gets a family key of its own in the store, `tokenwell:family:` + SHA-256 of the family and the
 * token (never the token itself): its lease is held while the token is sent, its mark says the
 * token may be spent, and its entry names the refresh token the token was rotated to.
 */

import { sha256Hex } from '../crypto/hash.js'
import { failureOutcome } from '../endpoint/retry.js'
import { OAuthError } from '../errors.js'
import { isRepeatable } from '../grants/grants.js'
import { IN_PROCESS, type StoreEntry } from '../store.js'
import type { Token } from '../token.js'
import { type FamilyMember, successorOf } from './families.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { holdBound, keepLeaseAlive, leaseHeld, type StoreCall, storeDown } from './store-lease.js'

/**
 * How long a family entry is kept, ms (7 days): a process that still holds the rotated refresh
 * token (it has not needed a token since) learns from it which one to redeem instead.
 */
export const FAMILY_TTL = 604_800_000

const familyKey = async (family: string, token: string) =>
  `tokenwell:family:${await sha256Hex(`${family} ${token}`)}`

/** The entry that says `token` was rotated to `newest`: no access token, only the successor. */
async function rotationEntry(newest: string, now: number): Promise<StoreEntry> {
  const token = { accessToken: '', tokenType: 'rotated', refreshToken: newest, raw: {} }
  // a store checks an entry's fingerprint against its access token (Redis does, on read)
  return { token, obtainedAt: now, refreshAt: now + FAMILY_TTL, fingerprint: await sha256Hex('') }
}

/**
 * The refresh token the store's family entry says `token` (of `family`) was rotated to, or
 * `undefined` when it names none (or the store is one process's, or failed). A provider that
 * doubts `token` (a stalled holder's mark) asks this before it gives up on it: that holder's
 * answer may have come since, and its successor is redeemed instead of asking for a new login.
 */
export async function storedSuccessor(
  options: ResolvedTokenProviderOptions,
  storeCall: StoreCall,
  family: string,
  token: string,
): Promise<string | undefined> {
  const { store } = options
  if (!store.acquireLease || IN_PROCESS in store) return undefined
  const key = await familyKey(family, token)
  const newest = (await storeCall('get', () => store.get(key)))?.token.refreshToken
  return newest === token ? undefined : newest
}

/**
 * Redeems `token` (of `family`) with `send` under the store's lease on its family key, taken
 * after the cache key's (never the reverse). When another process rotated it, `member` is told
 * the newest and nothing is sent; when another process's redemption of it may have been
 * processed, `member` is told the successor that process's answer names, if it comes while it
 * may, else doubts it; both resolve `undefined` (the caller starts over). A store that
 * fails means the token is not sent. `next` names what the answer rotated `token` to.
 */
export async function redeemInStoreFamily<T extends { token: Token }>(
  options: ResolvedTokenProviderOptions,
  storeCall: StoreCall,
  family: string,
  token: string,
  member: FamilyMember,
  send: () => Promise<T | undefined>,
  next: (answer: T) => string,
): Promise<T | undefined> {
  const { store, clock, lockTtl } = options
  const acquire = store.acquireLease?.bind(store)
  // one process's store (a memory store): its own providers are families.ts's; no entry piles up
  if (!acquire || IN_PROCESS in store) return send()
  const wait = store.waitForEntry?.bind(store)
  const key = await familyKey(family, token)
  const fingerprint = await sha256Hex(token)
  const started = clock()
  const deadline = started + holdBound(options) + lockTtl
  /** Another process rotated `token` away: its successor is redeemed instead. */
  const rotated = (entry: StoreEntry | undefined) => {
    const newest = entry?.token.refreshToken
    if (newest === undefined || newest === token) return false
    member.rotated(token, newest)
    return true
  }
  for (;;) {
    const ttl = Math.max(lockTtl, holdBound(options))
    const lease = await storeCall('acquireLease', () => acquire(key, ttl).then((got) => got ?? null))
    if (lease === undefined) throw storeDown('acquireLease')
    if (lease === null) {
      // another process is redeeming it: wait for what it becomes
      const timeout = Math.min(lockTtl, deadline - clock())
      if (timeout <= 0) throw leaseHeld(clock() - started)
      const entry = wait
        ? await storeCall('waitForEntry', () => wait(key, timeout, (e) => e.token.refreshToken !== undefined))
        : await new Promise<undefined>((resolve) => setTimeout(resolve, Math.min(timeout, 50)))
      if (rotated(entry)) return undefined
      continue
    }
    const stop = keepLeaseAlive(lease, options, storeCall)
    const mark = lease.redeeming?.bind(lease)
    /** Whether this holder's mark is to be cleared: the outcome of its request is known. */
    let clear = false
    try {
      const read = await storeCall('get', async () => ({ entry: await store.get(key) }))
      if (read === undefined) throw storeDown('get')
      if (rotated(read.entry)) return undefined
      // a previous holder's request with it may have been processed (rule 4): it is never sent
      // again. A grant that cannot start over redeems the successor instead: the one a provider
      // of this process learned (that holder's write failed), else the one the holder names
      // once its answer comes (it stalled): it waits for that, holding the lease, while it may
      if (lease.inDoubt === fingerprint) {
        const named = (e: StoreEntry) => e.token.refreshToken !== undefined
        const known = successorOf(family, token)
        if (known !== undefined) member.rotated(token, known)
        else if (
          !wait ||
          isRepeatable(options.grant) ||
          !rotated(await storeCall('waitForEntry', () => wait(key, holdBound(options), named)))
        )
          member.doubt(token)
        return undefined
      }
      if (mark) {
        const ours = await storeCall('redeeming', () => mark(fingerprint))
        if (ours === undefined) throw storeDown('redeeming')
        if (!ours) continue // the lease was lost before anything was sent
      }
      let answer: T | undefined
      try {
        answer = await send()
      } catch (error) {
        // refused, or perhaps processed: the mark stays, and no process sends it again
        const spent = error instanceof OAuthError && error.error === 'invalid_grant'
        clear = !spent && failureOutcome(error) !== 'unknown'
        throw error
      }
      if (answer === undefined) {
        clear = true // another provider of this process had it first: nothing was sent
        return undefined
      }
      const newest = next(answer)
      if (newest === token) clear = true
      else if (newest !== 'spent') {
        const entry = await rotationEntry(newest, clock())
        const fenced = lease.set?.bind(lease)
        const unfenced = () => store.set(key, entry, FAMILY_TTL).then(() => true)
        const wrote = await storeCall(
          'set',
          async () => (fenced ? fenced(entry, FAMILY_TTL) : unfenced()),
          answer.token,
        )
        // unwritten, the mark stays: a process that finds it never sends the rotated token. A lease
        // lost meanwhile (its holder stalled) still says what `token` became: written unfenced
        if (wrote === false) await storeCall('set', unfenced, answer.token)
        clear = wrote === true
      }
      return answer
    } finally {
      stop()
      if (clear && mark) await storeCall('redeeming', () => mark(undefined))
      await storeCall('release', () => lease())
    }
  }
}
