import { sha256Hex } from '../crypto/hash.js'
import { AuthorizationError, OAuthError } from '../errors.js'
import { isOneTime, isRepeatable } from '../grants/grants.js'
import type { StoreEntry } from '../store.js'
import { type Token, tokenToData } from '../token.js'
import { scheduleFor } from './expiry.js'
import { type FamilyMember, redeemInFamily, successorOf } from './families.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { createRedemptions } from './redemptions.js'
import { redeemInStoreFamily, storedSuccessor } from './store-families.js'
import type { StoreCall } from './store-lease.js'

/** Refresh tokens this provider rotated away from that it remembers (RFC 6749 §10.4). */
const SPENT_MEMORY = 16

export interface RefreshTokenHooks {
  /** An answer that came after every caller stopped waiting for it: adopt and store it. */
  onLateEntry(entry: StoreEntry): Promise<void>
  /** Runs a call of the shared store (for its family keys, store-families.ts). */
  storeCall: StoreCall
}

/**
 * What the answers to one provider's token requests mean for its refresh token (and its
 * authorization or device code): the newest one held, the ones rotated away from, the ones in
 * doubt (a request with it may have been processed, its answer lost: rule 4), and the record of
 * its rotations this process's other providers (families.ts) and other processes (the store's
 * family entries) share.
 */
export function createRefreshTokenHolder(options: ResolvedTokenProviderOptions, hooks: RefreshTokenHooks) {
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

  /**
   * Redeems `used` (a refresh token, or the code) with `request`, or joins the redemption of it
   * under way: under the store's family lease first (other processes), then this process's
   * registry; a caller stops waiting after `timeout`, the redemption holds both until its answer
   * or failure is in. `request` is handed `rotatedTo`, for the refresh token of a 2xx the server
   * redeemed `used` in that was refused as a token response (the one to redeem next).
   */
  function redeem(
    used: string,
    request: (rotatedTo: (rotated: string) => void) => Promise<{ token: Token; response: Response }>,
  ) {
    const next = (answer: { token: Token }) => successor(used, answer.token)
    /** The request; `sending` tells the redemption it goes out (only then may it spend `used`). */
    const send = (sending: () => void) => (settleAs: (next: string) => void) => {
      sending()
      return request((rotated) => {
        if (rotated === used) return // not rotated: still the one in doubt
        settleAs(rotated)
        rotate(used, rotated)
      })
    }
    return redemptions.redeem(
      used,
      (sending) =>
        redeemInStoreFamily(
          options,
          hooks.storeCall,
          family,
          used,
          member,
          () => redeemInFamily(family, used, member, send(sending), next),
          next,
        ),
      options.timeout,
    )
  }

  /**
   * The refresh token the next attempt redeems in place of `used` (the one held, or `undefined`
   * for a token from the grant itself): the newest one when another provider or process rotated
   * it, `undefined` when the grant starts over without it. Throws an `AuthorizationError` when
   * nothing is left to redeem and the grant cannot start over.
   */
  async function toRedeem(used: string | undefined): Promise<string | undefined> {
    while (used !== undefined && redemptions.inDoubt(used)) {
      // another provider of this process, or the stalled holder of another, rotated it since
      // (a store's mark for it is older news)
      const newest =
        successorOf(family, used) ?? (await storedSuccessor(options, hooks.storeCall, family, used))
      if (newest !== undefined) {
        member.rotated(used, newest)
        used = refreshToken // nothing was sent
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
    return used
  }

  return {
    code,
    redeem,
    toEntry,
    forgetIfRejected,
    toRedeem,
    /** What the provider reads and tells of its refresh token. */
    api: {
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
    },
  }
}
