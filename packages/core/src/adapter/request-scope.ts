import { ConfigError, InsecureHttpError } from '../errors.js'
import { isLoopback } from '../provider/option-checks.js'
import type { AdapterOptions } from './adapter-options.js'
import { compileMatch, matches } from './match.js'
import { baseOrigin, knownOriginOf, pageBase } from './origin.js'
import type { ClientShape } from './shape.js'

/** Origins remembered as seen, in scope and allowed over their transport. */
const RECENT_ORIGINS = 16

/** Where one client's requests may take the token: `match`, else the origin of their base URL. */
export interface RequestScope<R> {
  /** The request's whole URL as the client reports it (`''` when it has none). */
  hrefOf(request: R): string
  /** The request's origin, or `undefined` when it has none we may use (unparsable, userinfo, not http(s)). */
  originOf(request: R): string | undefined
  /**
   * The request's origin when the token may go there, else `undefined`. Throws `ConfigError`
   * when nothing tells where the token may go, `InsecureHttpError` for plain http off loopback
   * (unless `allowInsecureHttp`): before anything is sent.
   */
  admitted(request: R): string | undefined
}

/** The scope `options` give the requests `shape` reads. Throws `ConfigError` for a bad `match`. */
export function createRequestScope<R>(
  options: AdapterOptions,
  shape: ClientShape<R, unknown>,
): RequestScope<R> {
  const compiled = options.match === undefined ? undefined : compileMatch(options.match)
  const allowInsecureHttp = options.allowInsecureHttp === true
  const recent: string[] = []
  const bases = new Map<string, string | null>()
  const hrefOf = (request: R) => String(shape.url(request, true) ?? '')

  function originOf(request: R): string | undefined {
    const raw = shape.url(request, false)
    if (raw === undefined) return undefined
    const href = typeof raw === 'string' ? raw : raw.href
    const known = knownOriginOf(href, recent)
    if (known !== undefined) return known
    // a relative URL (a browser's `/api/orders`) goes where the page's fetch sends it
    const page = pageBase()
    if (!URL.canParse(href, page)) return undefined
    const url = new URL(href, page)
    if (url.username !== '' || url.password !== '') return undefined // the caller's own credentials
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined
  }

  function inScope(origin: string, request: R): boolean {
    // an origin in the set: no closure for the predicates' whole URL (the hot path)
    if (compiled) return compiled.origins.has(origin) || matches(compiled, origin, () => hrefOf(request))
    const own = shape.base(request)
    const base = own === undefined || own === '' ? shape.defaultBase?.(request) : own
    if (base === null) throw new ConfigError(NO_SCOPE) // nothing tells where the token may go
    if (base === undefined || base === '') return true
    const key = String(base)
    let known = bases.get(key)
    if (known === undefined) {
      known = baseOrigin(base)
      if (bases.size >= 32) bases.clear()
      if (typeof base === 'string' && URL.canParse(base)) bases.set(key, known) // relative: per page
    }
    return known === origin
  }

  function admit(origin: string): void {
    const url = new URL(origin)
    // RFC 6750 §5.3: a bearer token is only as secret as its transport
    if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopback(url))
      throw new InsecureHttpError(origin)
    if (recent.length >= RECENT_ORIGINS) recent.shift()
    recent.push(origin)
  }

  return {
    hrefOf,
    originOf,
    admitted(request) {
      const origin = originOf(request)
      if (origin === undefined || !inScope(origin, request)) return undefined
      if (!recent.includes(origin)) admit(origin)
      return origin
    },
  }
}

const NO_SCOPE =
  "match: this request has no base URL and the client's is not known yet; give the adapter a match"
