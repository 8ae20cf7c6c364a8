import type { StoreEntry, StoreLease } from '@tokenwell/core'
import type { RunOptions } from './command-runner.js'
import { replyText } from './redis-client.js'
import { ACQUIRE_LOCK, EXTEND_LOCK, MARK_REDEEMING, RELEASE_LOCK } from './scripts.js'
import { clampTtl } from './ttl.js'

type Run = (operation: string, args: string[], key: string, options?: RunOptions) => Promise<unknown>

/** The keys of one cache key's lease. */
export interface LeaseKeys {
  lock: string
  fence: string
  /** The fingerprint of the refresh token a holder is redeeming. */
  redeeming: string
}

/**
 * Takes the fetch lock for `ttl` ms. The lease it resolves to releases the lock, extends it
 * while its holder may still be redeeming, writes through `write` with its fence (a holder whose
 * lease was taken over never overwrites a newer result), and marks the refresh token its holder
 * redeems: a mark a dead or stalled holder left is the next lease's `inDoubt`.
 */
export async function acquireLease(
  run: Run,
  keys: LeaseKeys,
  ttl: number,
  fenceTtl: number,
  /** `mark`: the refresh-token fingerprint this lease marked ('' when none), see `SET_ENTRY`. */
  write: (entry: StoreEntry, ttl: number, fence: string, mark: string) => Promise<boolean>,
  /** The store's own `lockTtl`: when set, each extension is to it rather than to what core asks. */
  extendTtl?: number,
): Promise<StoreLease | undefined> {
  const owner = randomHex(16)
  // released even when Redis is marked down: it is owner-checked, and a stale lock would stall the fleet
  const release = async () => {
    await run('unlock', ['EVAL', RELEASE_LOCK, '1', keys.lock, owner], keys.lock, { always: true })
  }
  const lockKeys = [keys.lock, keys.fence, keys.redeeming]
  const args = ['EVAL', ACQUIRE_LOCK, '3', ...lockKeys, owner, clampTtl(ttl), clampTtl(fenceTtl)]
  const reply = await run('lock', args, keys.lock, {
    // the lock was taken after this call gave up on it: hand it back at once
    lateReply: (late) => void (Array.isArray(late) && release().catch(() => {})),
  })
  if (!Array.isArray(reply)) return undefined
  const fence = replyText(reply[0])
  if (fence === undefined) return undefined
  const inDoubt = replyText(reply[1]) || undefined
  /** The fingerprint this lease marked last: its write is kept even after a takeover while the mark stands. */
  let marked = ''
  return Object.assign(release, {
    inDoubt,
    ttl: extendTtl,
    async redeeming(fingerprint: string | undefined) {
      const args = [keys.lock, keys.redeeming, owner, fingerprint ?? '', clampTtl(fenceTtl)]
      const ours = Number(await run('mark', ['EVAL', MARK_REDEEMING, '2', ...args], keys.lock)) === 1
      if (ours) marked = fingerprint ?? ''
      return ours
    },
    async extend(more: number) {
      const extended = await run(
        'extend',
        ['EVAL', EXTEND_LOCK, '1', keys.lock, owner, clampTtl(extendTtl ?? more)],
        keys.lock,
      )
      return Number(extended) === 1
    },
    set: (entry: StoreEntry, entryTtl: number) => write(entry, entryTtl, fence, marked),
  })
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
}
