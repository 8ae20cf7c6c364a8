import { BODY_HEADERS } from './body.js'
import { pageBase } from './origin.js'
import type { Grant } from './shape.js'

/** Where a redirect leads and what the next request looks like. */
export interface Redirect {
  /** The absolute URL of the next request. */
  readonly url: URL
  /** Its method: `GET` after a 303 (unless `HEAD`) and after a 301/302 to a `POST`, else unchanged. */
  readonly method: string
  /** Whether the next request carries the body again (307, 308, and any redirect that keeps the method). */
  readonly keepsBody: boolean
  /** The headers the next request goes without: those of the body (`BODY_HEADERS`) when it drops the body. */
  readonly dropsHeaders: readonly string[]
  /** Whether the next request goes to `origin`: only then may it carry credentials. */
  readonly sameOrigin: boolean
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const NONE: readonly string[] = []

/**
 * The next request after a response with `status` and `location` to `request`, following the
 * Fetch standard's rules (which browsers, undici, follow-redirects and got share), or
 * `undefined` when the response is no redirect to an http(s) URL. `origin` is the origin the
 * credentials belong to (the first request's), so a chain that left it never comes back with them.
 * @see RFC 9110 §15.4, Fetch standard §4.4 (HTTP-redirect fetch)
 */
export function redirectTarget(
  request: { method: string; url: string | URL },
  status: number,
  location: string | readonly string[] | null | undefined,
  origin: string = new URL(request.url).origin,
): Redirect | undefined {
  const value = typeof location === 'string' ? location : location?.[0]
  if (!REDIRECTS.has(status) || !value || !URL.canParse(value, request.url)) return undefined
  const url = new URL(value, request.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  const method = request.method.toUpperCase()
  const toGet =
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  return {
    url,
    method: toGet ? 'GET' : request.method,
    keepsBody: !toGet,
    dropsHeaders: toGet ? BODY_HEADERS : NONE,
    sameOrigin: url.origin === origin,
  }
}

/**
 * What `ClientShape.redirects` says for a client that tells only the last URL of a chain (XHR's
 * `responseURL`): `null` when `last` is not the URL asked for (it followed redirects, where to is
 * not known), `undefined` when it is (or is not known).
 */
export const unseenRedirects = (last: unknown, asked: string): null | undefined =>
  typeof last === 'string' && last !== '' && last !== new URL(asked, pageBase()).href.replace(/#.*/, '')
    ? null
    : undefined

/** The URLs of a chain's hops, as `followHop` records them on the options of the chain. */
const FOLLOWED = Symbol.for('tokenwell.followed-hops')

/** A hop as follow-redirects shows it to `beforeRedirect`: the next request's options, one object a chain. */
type FollowedHop = { href?: unknown; headers?: Record<string, unknown>; [FOLLOWED]?: string[] }

/**
 * For a client that follows redirects itself and shows each hop to a hook before it sends it
 * (follow-redirects' `beforeRedirect`, under axios in Node, which keeps `Authorization` on a
 * subdomain): takes `Authorization` and `DPoP` (in any case) off the hop's headers unless `grant`,
 * the one `again` gives the hop, carries a token (a promise, a proof still to sign, is too late for
 * the hook: neither goes), and records the hop's URL for `followedHops`.
 */
export function followHop(hop: FollowedHop, grant: Grant | Promise<Grant>): void {
  const chain = hop[FOLLOWED] ?? []
  chain.push(String(hop.href))
  hop[FOLLOWED] = chain
  if ('authorization' in grant && grant.authorization !== undefined) return
  for (const name of Object.keys(hop.headers ?? {}))
    if (/^(authorization|dpop)$/i.test(name)) delete hop.headers![name]
}

/** The hops `followHop` saw on the options of a chain, for `ClientShape.redirects`; `undefined`: none. */
export const followedHops = (hop: FollowedHop | undefined): readonly string[] | undefined => hop?.[FOLLOWED]
