import { DpopError } from '../errors.js'
import { IN_BROWSER } from './origin.js'
import { redirectTarget } from './redirect.js'
import type { Grant } from './shape.js'

/** A fetch that takes one `Request` (and the options a client passes beside it). */
export type RequestFetch = (request: Request, init?: never) => Promise<Response>

/** The redirects fetch's `redirect: 'follow'` takes at most (Fetch standard §4.4, step 5). */
const MAX_HOPS = 20

/**
 * Whether an authorized request's redirects are followed here, hop by hop (`fetchHopByHop`), rather
 * than by the fetch underneath: always for a DPoP proof, which names one URL; and for any token when
 * that fetch is the caller's own, which may keep `Authorization` past the origin (node-fetch keeps it
 * for the same host name on any port and for its subdomains). A platform fetch drops it on leaving
 * the origin (Fetch standard §4.4), and in a browser every fetch ends in the platform's, which also
 * hides redirects from `redirect: 'manual'`: there a caller's fetch follows them itself.
 */
export function followsRedirectsHere(grant: Grant, callersFetch: boolean): boolean {
  return grant.authorization !== undefined && (grant.dpop || (callersFetch && !IN_BROWSER))
}

/** `headers` carrying what `grant` sends: its token and proof, or neither. */
export function setGrantHeaders(headers: Headers, grant: Grant): Headers {
  if (grant.authorization === undefined) headers.delete('authorization')
  else headers.set('authorization', grant.authorization)
  if (grant.proof === undefined) headers.delete('dpop')
  else headers.set('dpop', grant.proof)
  return headers
}

/**
 * Sends `request` with the platform's `fetch` (`globalThis.fetch` now), then takes the token and
 * proof off it: that fetch copies a `Request` before it returns (Fetch standard, the `fetch()`
 * method, step 2), so what is sent keeps them, and a client error that holds the request
 * afterwards (ky's `TimeoutError`, which reaches no hook) holds neither. For a request the
 * adapter authorized: none of it is the caller's own.
 */
export function sendUnkept(request: Request, init?: RequestInit): Promise<Response> {
  const sent = globalThis.fetch(request, init)
  request.headers.delete('authorization')
  request.headers.delete('dpop')
  return sent
}

/**
 * Sends `request` with `fetch` and follows its redirects here, one hop at a time, as
 * `redirect: 'follow'` would (at most 20), for a request whose every send needs the protocol's
 * word: a DPoP proof names one URL, so `again` gives each hop its grant (a new proof on the
 * origin, nothing once the chain left it). The body is read into bytes first when `replayable`
 * says it may be sent again, so a 307/308 hop (and a replay of the result) sends it byte-identical;
 * a body that may not is sent once, and a redirect that would send it again is handed back as it is.
 * A browser hides redirects from `redirect: 'manual'` (an opaque response): such a redirect rejects
 * with `DpopError`, as the request was sent once and its proof must not follow it. Resolves to the last response, the request it answered (in the caller's
 * form, bytes for its body) and the grant it went with.
 * @see Fetch standard §4.4 (HTTP-redirect fetch), RFC 9449 §4.3
 */
export async function fetchHopByHop(
  fetch: RequestFetch,
  request: Request,
  grant: Grant,
  again: (grant: Grant, request: Request) => Grant | Promise<Grant>,
  replayable: boolean,
): Promise<{ response: Response; request: Request; grant: Grant }> {
  const bytes = request.body === null ? null : replayable ? await request.clone().arrayBuffer() : undefined
  let body = bytes // this hop's: a stream (`undefined`) goes from the request itself, once
  const sendOnce = (redirect: RequestRedirect) => {
    const headers = setGrantHeaders(copyOf(request.headers), grant)
    return fetch(new Request(request, { headers, redirect, ...(body !== undefined && { body }) }))
  }
  let response = await sendOnce('manual')
  // sent again with 'follow', it would be processed twice and its proof (kept on any origin) go where it leads
  if (response.type === 'opaqueredirect') throw new DpopError(HIDDEN_REDIRECT)
  for (let hops = 0; ; hops++) {
    const next = redirectTarget(request, response.status, response.headers.get('location'))
    if (!next || (next.keepsBody && bytes === undefined)) return { response, request, grant }
    if (hops >= MAX_HOPS) throw new TypeError('fetch failed: redirect count exceeded') // as fetch does
    response.body?.cancel().catch(() => {})
    const headers = copyOf(request.headers)
    for (const name of next.dropsHeaders) headers.delete(name)
    const hopBody = next.keepsBody ? (bytes as ArrayBuffer | null) : null
    body = hopBody
    request = new Request(next.url, { method: next.method, headers, body: hopBody, signal: request.signal })
    grant = await again(grant, request)
    response = await sendOnce('manual')
  }
}

const HIDDEN_REDIRECT =
  'the API redirected a DPoP request and the browser hides where to (redirect: "manual"): a proof names one URL, so it is not followed'

/** A copy of `headers` made from its entries: `new Headers(headers)` of a `Headers` of another fetch implementation may drop some. */
const copyOf = (headers: Headers) => new Headers([...headers])
