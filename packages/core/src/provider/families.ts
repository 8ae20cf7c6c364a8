/**
 * Rule 4 across the providers of one process (or page). A refresh token is one secret whichever
 * provider holds it: two providers given the same one (one sign-in, two scopes or resources; or
 * the same options twice, each with its own in-memory store) must not both redeem it, or the
 * second presents a spent refresh token and a server with reuse detection revokes the family.
 * Each redemption is registered here, by token endpoint, client and the refresh token presented:
 * a provider about to present one that another provider is redeeming waits for it, and one that
 * another provider rotated away from redeems the newest of the family instead.
 */

import { failureOutcome } from '../endpoint/retry.js'
import { OAuthError } from '../errors.js'

/** What became of a refresh token: being redeemed by `owner`, rotated to `next`, or never to be sent again. */
type Link =
  | { readonly owner: object; readonly settled: Promise<void>; readonly settle: () => void }
  | { readonly next: string }
  | { readonly spent: true }

/** Links remembered; the oldest go first (a family's newest link is its newest entry). */
const MEMORY = 256
const links = new Map<string, Link>()
const SPENT = { spent: true } as const

/** What a provider must do before it presents a refresh token another provider has had. */
type Claim =
  | { readonly wait: Promise<void> }
  | { readonly newest: string }
  | { readonly spent: true }
  | undefined

const keyOf = (family: string, token: string) => `${family} ${token}`

/**
 * Claims the redemption of `token` (of `family`: the token endpoint and client) for `owner`:
 * `undefined` when `owner` may send it now (it is registered as redeeming it, until `settle`),
 * else what to do first: wait for another provider's redemption of it, redeem `newest` instead
 * (another provider rotated it away), or never send it (another provider's request with it was
 * refused with `invalid_grant`, or its outcome is unknown). Synchronous: no other claim between.
 */
function claim(family: string, token: string, owner: object): Claim {
  let newest = token
  let link = links.get(keyOf(family, newest))
  for (let hops = 0; link && 'next' in link && hops < MEMORY; hops++) {
    newest = link.next
    link = links.get(keyOf(family, newest))
  }
  if (link && 'next' in link) return SPENT // a chain longer than the memory: a cycle, never sent
  if (newest !== token) return { newest }
  if (link && 'spent' in link) return SPENT
  if (link && link.owner !== owner) return { wait: link.settled }
  if (link) return undefined // this provider's own redemption, joined where it is made
  let settle = () => {}
  const settled = new Promise<void>((resolve) => {
    settle = resolve
  })
  remember(keyOf(family, token), { owner, settled, settle })
  return undefined
}

/**
 * The newest refresh token of `family` that `token` was rotated to in this process (following
 * each rotation), or `undefined` when no provider here saw it rotated. A provider that doubts
 * `token` (its store kept a mark for it) redeems that one instead of asking for a new login.
 */
export function successorOf(family: string, token: string): string | undefined {
  let newest = token
  for (let hops = 0; hops < MEMORY; hops++) {
    const link = links.get(keyOf(family, newest))
    if (!link || !('next' in link)) return newest === token ? undefined : newest
    newest = link.next
  }
  return undefined // a chain longer than the memory: a cycle
}

/**
 * Ends the redemption of `token` that `owner` claimed: `outcome` is the refresh token to redeem
 * next (the rotated one; `token` itself when the server did not rotate it), `'spent'` (refused
 * with `invalid_grant`, or the outcome is unknown), or `'free'` (it was not processed: it may be
 * sent again). A late answer for a spent one may still name its successor.
 */
export function settle(
  family: string,
  token: string,
  owner: object,
  outcome: string | 'spent' | 'free',
): void {
  const key = keyOf(family, token)
  const link = links.get(key)
  if (link && 'owner' in link && link.owner !== owner) return
  if (outcome === 'spent' && link && 'next' in link) return // a 2xx refused as a token response named it
  if (outcome === 'free' || outcome === token) links.delete(key)
  else remember(key, outcome === 'spent' ? SPENT : { next: outcome })
  if (link && 'settle' in link) link.settle()
}

/** A provider in the registry: what it holds is spent or rotated when another provider had it first. */
export interface FamilyMember {
  /** Another provider's request with `token` was refused or lost: it may be spent. */
  doubt(token: string): void
  /** Another provider rotated `token` away: `newest` is the one to redeem instead. */
  rotated(token: string, newest: string): void
}

/**
 * Redeems `token` (of `family`: the token endpoint and client) for `member` with `send`, claimed
 * right before it is sent and settled with what became of it: the refresh token `next` names in
 * the answer; on a failure spent (refused with `invalid_grant`, or its outcome is unknown) or free.
 * `send` is handed `settleAs`, for a successor named in an answer that failed anyway. When another
 * provider had `token` first, nothing is sent: it waits for that redemption or tells `member`
 * what became of `token`, and resolves to `undefined` (the caller starts over).
 */
export async function redeemInFamily<T>(
  family: string,
  token: string,
  member: FamilyMember,
  send: (settleAs: (next: string) => void) => Promise<T>,
  next: (answer: T) => string,
): Promise<T | undefined> {
  const claimed = claim(family, token, member)
  if (claimed) {
    if ('wait' in claimed) await claimed.wait
    else if ('spent' in claimed) member.doubt(token)
    else member.rotated(token, claimed.newest)
    return undefined
  }
  const end = (outcome: string) => settle(family, token, member, outcome)
  try {
    const answer = await send(end)
    end(next(answer))
    return answer
  } catch (error) {
    const rejected = error instanceof OAuthError && error.error === 'invalid_grant'
    end(rejected || failureOutcome(error) === 'unknown' ? 'spent' : 'free')
    throw error
  }
}

function remember(key: string, link: Link): void {
  links.delete(key)
  links.set(key, link)
  if (links.size > MEMORY) links.delete(links.keys().next().value!)
}

/**
 * Forgets every link. For tests only: their fake servers issue the same refresh token strings
 * again in every test, which no real server does (a refresh token is random and never reissued).
 */
export function forgetRefreshFamilies(): void {
  for (const link of links.values()) if ('settle' in link) link.settle()
  links.clear()
}
