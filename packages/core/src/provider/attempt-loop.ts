import { sha256Hex } from '../crypto/hash.js'
import { isRetryable, retryDelay } from '../endpoint/retry.js'
import type { TokenEndpointClient } from '../endpoint/token-endpoint.js'
import { AuthorizationError, OAuthError } from '../errors.js'
import type { DevicePoll } from '../flows/device-poll.js'
import { grantParams, isOneTime, isRepeatable } from '../grants/grants.js'
import type { StoreEntry } from '../store.js'
import { createToken, type Token, tokenToData } from '../token.js'
import type { CallParams } from './call-tokens.js'
import { scheduleFor } from './expiry.js'
import { type FamilyMember, redeemInFamily, successorOf } from './families.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { createRedemptions } from './redemptions.js'
import { redeemInStoreFamily, storedSuccessor } from './store-families.js'
import { answerTimeout, type StoreCall } from './store-lease.js'

/** Refresh tokens this provider rotated away from that it remembers (RFC 6749 §10.4). */
const SPENT_MEMORY = 16

export interface AttemptLoopHooks {
  emitTokenError(event: { error: Error; attempt: number; willRetry: boolean; delayMs?: number }): void
  /** An answer that came after every caller stopped waiting for it: adopt and store it. */
  onLateEntry(entry: StoreEntry): Promise<void>
  /** Runs a call of the shared store (for its family keys, store-families.ts). */
  storeCall: StoreCall
}

/**
 * The token requests of one provider: the grant, its refresh token, retries. A refresh token is
 * redeemed at most once (rule 4): a request that may have reached the server is never repeated
 * with it, only awaited; only failures known not to have been processed are retried with it.
 */
export function createAttemptLoop(
  options: ResolvedTokenProviderOptions,
  client: TokenEndpointClient,
  hooks: AttemptLoopHooks,
  stopPolling: () => AbortSignal,
) {
  const { clock, grant } = options
  /** The newest refresh token held; survives invalidation and failed refreshes. */
  let refreshToken: string | undefined = grant.type === 'refresh_token' ? grant.refreshToken : undefined
  const spent: string[] = []
  /** `token` is never redeemed again (rotated away from, refused or revoked). */
  const retire = (token: string) => {
    spent.push(token)
    if (spent.length > SPENT_MEMORY) spent.shift()
  }
  /** `token` is never redeemed again, and no longer held (refused or revoked). */
  const forget = (token: string) => {
    retire(token)
    if (refreshToken === token) refreshToken = undefined
  }
  /** Holds `token`, one from a store, unless this provider rotated away from it (redeeming it would be a replay). */
  const adopt = (token: string | undefined) => {
    if (token !== undefined && !spent.includes(token)) refreshToken = token
  }
  /** An authorization or device code is exchanged once (RFC 6749 §4.1.2, RFC 8628 §3.5). */
  let codeSpent = false
  let devicePoll: DevicePoll | undefined

  /** The authorization code: exchanged once, it is redeemed as a refresh token is (rule 4). */
  const code = grant.type === 'authorization_code' ? grant.code : undefined
  /** `used` was rotated to `next`: it is never redeemed again, and `next` is held in its place. */
  const rotate = (used: string, next: string) => {
    retire(used)
    if (refreshToken === used || refreshToken === undefined) refreshToken = next
  }
  /** This provider among the others of the process that may hold its refresh tokens (families.ts). */
  const member: FamilyMember = {
    doubt: (token) => redemptions.doubt(token),
    rotated(token, newest) {
      rotate(token, newest)
      if (token === code) codeSpent = true
    },
  }
  // the server as configured: a discovered endpoint would move the family of a redemption in flight
  const family = `${options.tokenEndpoint?.href ?? options.issuer ?? options.protectedResource} ${options.clientId}`
  /** What comes after `used` once redeemed: the refresh token the answer names (a code is spent). */
  const successor = (used: string, token: Token) => token.refreshToken ?? (used === code ? 'spent' : used)
  const redemptions = createRedemptions(
    async (answer, used) => hooks.onLateEntry(await toEntry(answer.token, used === code ? undefined : used)),
    (error, used) => forgetIfRejected(error, used),
  )

  /** The store entry for a token the server issued in exchange for `used` (a refresh token or none). */
  async function toEntry(token: Token, used: string | undefined): Promise<StoreEntry> {
    if (isOneTime(grant)) codeSpent = true
    const obtainedAt = clock()
    // RFC 6749 §6: a server that does not rotate leaves the old refresh token valid
    const kept = token.refreshToken ?? used
    if (used !== undefined && kept !== used) {
      // rotated: a store that missed our write (it was down) must not hand the old one back
      retire(used)
    }
    if (kept !== undefined && (refreshToken === used || refreshToken === undefined)) refreshToken = kept
    const data = { ...tokenToData(token), ...(kept !== undefined && { refreshToken: kept }) }
    const expiresAt = token.expiresAt ?? obtainedAt + options.defaultLifetime
    return {
      token: data,
      obtainedAt,
      refreshAt: scheduleFor(obtainedAt, expiresAt, options.refreshSkew, 0).refreshAt,
      fingerprint: await sha256Hex(data.accessToken),
    }
  }

  /**
   * After `invalid_grant` for `used`: it is never sent again. A grant that can run again starts
   * over without it; one that cannot asks for a new login, without a request (a spent refresh
   * token sent again is a replay each time, to a server with reuse detection).
   */
  function forgetIfRejected(error: unknown, used: string): boolean {
    if (!(error instanceof OAuthError) || error.error !== 'invalid_grant') return false
    forget(used) // a store still holding it must not hand it back
    return true
  }

  async function send(params: Record<string, string>, used: string | undefined, call?: CallParams) {
    if (used === undefined) return client.send(params, undefined, call)
    const limit = answerTimeout(options)
    /** The request; `sending` tells the redemption it goes out (only then may it spend `used`). */
    const request = (sending: () => void) => (settleAs: (next: string) => void) => {
      // a 2xx the server redeemed `used` (a refresh token or the code) in, refused as a token
      // response: the refresh token it carried is the one to redeem next, as `toEntry` keeps it
      const rotatedTo = (rotated: string) => {
        if (rotated === used) return // not rotated: still the one in doubt
        settleAs(rotated)
        rotate(used, rotated)
      }
      sending()
      return client.send(params, limit, undefined, rotatedTo)
    }
    const next = (answer: { token: Token }) => successor(used, answer.token)
    // the store's family lease first (other processes), then this process's registry; a caller
    // stops waiting after `timeout`, the redemption holds both until its answer or failure is in
    const redeem = (sending: () => void) =>
      redeemInStoreFamily(
        options,
        hooks.storeCall,
        family,
        used,
        member,
        () => redeemInFamily(family, used, member, request(sending), next),
        next,
      )
    return redemptions.redeem(used, redeem, options.timeout)
  }

  /**
   * Asks the token endpoint, with retries, and returns the store entry for the answer. With
   * `call` (a repeatable grant only): a token for those parameters, from the grant itself, never
   * from the refresh token, and without one of its own (it would compete with the provider's).
   */
  async function fetchEntry(call?: CallParams): Promise<StoreEntry> {
    let deadline = clock() + options.retry.deadline
    let attempt = 0
    // the server answered a device poll: a later failure is a new outage with its own retries
    const onPollAnswer = () => {
      attempt = 1
      deadline = clock() + options.retry.deadline
    }
    for (;;) {
      attempt++
      let used = call === undefined ? refreshToken : undefined
      try {
        if (used !== undefined && redemptions.inDoubt(used)) {
          // another provider of this process, or the stalled holder of another, rotated it since
          // (a store's mark for it is older news)
          const newest =
            successorOf(family, used) ?? (await storedSuccessor(options, hooks.storeCall, family, used))
          if (newest !== undefined) {
            member.rotated(used, newest)
            attempt-- // nothing was sent
            continue
          }
          if (!isRepeatable(grant))
            throw new AuthorizationError(
              'a refresh request was lost after it was sent and the refresh token may be spent: it is not sent again (log in again)',
            )
          // rule 4: a refresh token that may be spent is never sent again; the grant starts over
          if (refreshToken === used) refreshToken = undefined
          used = undefined
        }
        // an exchange of the code whose answer was lost: the code is spent as far as we know
        if (used === undefined && code !== undefined && redemptions.inDoubt(code)) codeSpent = true
        if (codeSpent && used === undefined) {
          const kind = grant.type === 'authorization_code' ? 'authorization' : 'device'
          throw new AuthorizationError(
            `the ${kind} code was already exchanged and no refresh token is left: log in again`,
          )
        }
        // the grant's own refresh token was rotated away long ago, and the newest one revoked
        if (used === undefined && grant.type === 'refresh_token')
          throw new AuthorizationError('the refresh token was revoked: it is not sent again (log in again)')
        const params = await grantParams(grant, used)
        let poll: DevicePoll | undefined
        if (grant.type === 'urn:ietf:params:oauth:grant-type:device_code' && used === undefined) {
          // resolveOptions gave the grant its interval
          const resolved = grant as typeof grant & { interval: number }
          poll = devicePoll ??= resolved.poller(resolved, clock)
        }
        const answer = poll
          ? await poll(() => client.send(params), onPollAnswer, stopPolling())
          : await send(params, used ?? code, call)
        if (!answer) {
          attempt-- // another provider of this process had it first: nothing was sent
          continue
        }
        const { token } = answer
        if (call !== undefined) {
          const { refreshToken: _kept, ...data } = tokenToData(token)
          return await toEntry(createToken(data), used)
        }
        return await toEntry(token, used)
      } catch (error) {
        if (used !== undefined && forgetIfRejected(error, used)) {
          // the refresh token is spent or revoked; a grant that can be run again starts over (a
          // refresh_token grant never goes back to an older one: that would be a replay)
          if (!isRepeatable(grant)) throw error
          continue
        }
        const delay = retryDelay(error, attempt, options.retry, clock(), Math.random())
        const willRetry =
          attempt < options.retry.attempts &&
          isRetryable(error, used !== undefined || code !== undefined) &&
          clock() + delay < deadline
        const delayMs = willRetry ? delay : undefined
        hooks.emitTokenError({
          error: error as Error,
          attempt,
          willRetry,
          ...(delayMs !== undefined && { delayMs }),
        })
        if (!willRetry) throw error
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
    }
  }

  return {
    fetchEntry,
    redemptions,
    /** Adopts the refresh token a shared store holds, unless this provider rotated away from it. */
    offerRefreshToken(shared: string | undefined): void {
      adopt(typeof shared === 'string' && shared !== '' ? shared : undefined)
    },
    /**
     * A refresh token that came with a token from a store, unless this provider rotated away
     * from it (an older entry a failed write left in the store: redeeming it would be a replay).
     */
    adoptRefreshToken: adopt,
    /** The newest refresh token held. */
    refreshToken: () => refreshToken,
    /** `revoked` was revoked: it is never redeemed, and no longer held. */
    revoked: forget,
    /** Whether the next request would redeem a refresh token. */
    redeems: () => refreshToken !== undefined,
    /**
     * The refresh token the next request would redeem, by fingerprint (for a fleet lease to mark),
     * and whether that redemption is still in doubt; `undefined` when it would redeem none.
     */
    async redeeming(): Promise<{ fingerprint: string; inDoubt: () => boolean } | undefined> {
      const token = refreshToken
      if (token === undefined || redemptions.inDoubt(token)) return undefined
      return { fingerprint: await sha256Hex(token), inDoubt: () => redemptions.inDoubt(token) }
    },
    /** A lease holder that died or stalled was redeeming the refresh token with this fingerprint. */
    async doubt(fingerprint: string): Promise<void> {
      const token = refreshToken
      if (token !== undefined && (await sha256Hex(token)) === fingerprint) redemptions.doubt(token)
    },
  }
}
