import { TokenRequestError } from '../errors.js'
import type { StoreLease } from '../store.js'
import type { Token } from '../token.js'
import type { ResolvedTokenProviderOptions } from './options.js'

// What the fleet-wide single-flight (store-coordination.ts) and the store-level refresh-token
// families (store-families.ts) share: store calls, the lease's bounds and heartbeat, their errors.

/**
 * Runs one store operation; a failure is reported and becomes `undefined` (a cache miss).
 * `given`: the token it hands the store (its error may quote it).
 */
export type StoreCall = <T>(
  operation: string,
  call: () => Promise<T> | undefined,
  given?: Token,
) => Promise<T | undefined>

/**
 * How long a refresh request is kept alive for its answer, ms: past the caller's `timeout`, up
 * to the retry deadline, so a server that answers late is heard rather than asked again.
 */
export function answerTimeout(options: ResolvedTokenProviderOptions): number {
  return Math.max(options.timeout, options.retry.deadline)
}

/**
 * The longest a lease holder may still be redeeming after it began, ms: the last retry starts
 * before the retry deadline, and a refresh request is awaited for `answerTimeout` after that.
 */
export function holdBound(options: ResolvedTokenProviderOptions): number {
  return options.retry.deadline + answerTimeout(options)
}

/**
 * Cuts `lease` to `lockTtl` now and extends it every third of `lockTtl` (a heartbeat: a holder
 * that dies stops it) until the returned function is called, or until the longest a holder may
 * be redeeming after it took the lease has passed.
 */
export function keepLeaseAlive(
  lease: StoreLease,
  options: ResolvedTokenProviderOptions,
  storeCall: StoreCall,
): () => void {
  const { clock, lockTtl } = options
  const extend = lease.extend?.bind(lease)
  if (!extend) return () => {}
  const until = clock() + holdBound(options)
  // a store with a lock TTL of its own extends to it: beat every third of the shorter one
  const ttl = Math.min(lockTtl, lease.ttl ?? lockTtl)
  const beat = () => void storeCall('extendLease', () => extend(ttl))
  beat()
  const timer = setInterval(() => (clock() < until ? beat() : clearInterval(timer)), Math.max(1, ttl / 3))
  ;(timer as { unref?: () => void }).unref?.()
  return () => clearInterval(timer)
}

/**
 * The error when the shared store fails while a refresh token is to be redeemed: it is redeemed
 * only when the store can say no other process is redeeming or has rotated it.
 */
export function storeDown(operation: string): TokenRequestError {
  return new TokenRequestError(
    `the shared store failed (${operation}): its refresh token is not redeemed without the store's word that no other process redeemed it`,
  )
}

/** The error when another process held the lease past the longest it may be redeeming, and stored nothing. */
export function leaseHeld(ms: number): TokenRequestError {
  return new TokenRequestError(
    `another process has held the token lease for ${ms} ms without storing a token; its refresh token is not redeemed twice`,
  )
}
