import type { FetchLike, TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  BODY_HEADERS,
  type ClientShape,
  createRequestProtocol,
  type Grant,
  redirectTarget,
  unwrapFetch,
  WRAPPED_FETCH,
} from '@tokenwell/core/adapter'

/** A function with the signature of WHATWG `fetch`. */
export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

export interface WithOAuth2Options extends AdapterOptions {
  /**
   * The fetch to wrap (undici's, a proxy-aware one, a test double); it is called with one `Request`.
   * @default globalThis.fetch as it is when `withOAuth2` is called
   */
  fetch?: FetchLike
}

/** One call: the URL, the caller's init, and the `Request` when the caller passed one. */
interface Call {
  url: string
  init: RequestInit
  request: Request | undefined
}

const NO_INIT: RequestInit = Object.freeze({})

const shape: ClientShape<Call, Response> = {
  url: (call) => call.url,
  method: (call) => call.request?.method ?? call.init.method ?? 'GET',
  base: () => undefined,
  ownCredentials: (call) => hasAuthorization(call.request?.headers ?? call.init.headers),
  // a `Request` input is cloned before each send; a stream in `init` is sent once
  body: (call) => (call.init.body === undefined && call.request ? null : call.init.body),
  signal: (call) => call.request?.signal ?? call.init.signal ?? undefined,
  status: (response) => response.status,
  header: (response, name) => response.headers.get(name),
  responseUrl: (response) => (response.redirected && response.url !== '' ? response.url : undefined),
}

/**
 * Wraps `fetch` so that requests get the token from `provider` as `@tokenwell/core/adapter`'s
 * protocol decides: by default every request made through the returned function (`match`
 * narrows it), never one carrying its own `Authorization` or userinfo, never plain http off
 * loopback (`InsecureHttpError`). A 401 renews the token and replays the request once (a
 * `Request` input is cloned first, a stream in `init` is not replayed). The fetch it wraps is
 * bound now, so `globalThis.fetch = withOAuth2(provider)` works: the wrapper calls the fetch it
 * replaced, and the provider's token requests skip it. With a DPoP-bound token, redirects are
 * followed here (at most 20), with a new proof per same-origin hop and nothing once the chain
 * left the origin.
 *
 * @example
 * const authFetch = withOAuth2(provider, { match: 'https://api.example.com' })
 * const response = await authFetch('https://api.example.com/orders', { method: 'POST', body })
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7, §9
 */
export function withOAuth2(provider: TokenProvider, options: WithOAuth2Options = {}): Fetch {
  const { fetch: given, ...rest } = options
  const protocol = createRequestProtocol(provider, rest, shape)
  const bare = unwrapFetch(globalThis.fetch)
  const raw = (input: string | Request, init?: RequestInit) =>
    given ? given(typeof input === 'string' ? new Request(input, init) : input) : bare(input, init)

  function send(call: Call, grant: Grant | undefined): Promise<Response> {
    const manual = grant !== undefined && followsHere(call, grant)
    if (call.request) {
      const sending = call.request
      if (sending.body !== null) call.request = sending.clone() // the copy for a replay
      if (!grant) return raw(sending)
      const headers = withGrant(new Headers(sending.headers), grant)
      return raw(new Request(sending, { headers, ...(manual && { redirect: 'manual' }) }))
    }
    if (!grant) return raw(call.url, call.init === NO_INIT ? undefined : call.init)
    const headers = withGrant(call.init.headers, grant)
    return raw(call.url, { ...call.init, headers, ...(manual && { redirect: 'manual' }) })
  }

  async function follow(call: Call, grant: Grant, response: Response, hops: number): Promise<Response> {
    if (response.type === 'opaqueredirect') return send(call, { ...grant, dpop: false }) // a browser hides it
    const method = shape.method(call)
    const next = redirectTarget({ method, url: call.url }, response.status, response.headers.get('location'))
    if (!next) return settle(call, grant, response, hops)
    if (hops >= 20) throw new TypeError('fetch failed: redirect count exceeded') // as fetch does
    response.body?.cancel().catch(() => {})
    const headers = new Headers(call.request?.headers ?? call.init.headers)
    if (!next.keepsBody) for (const name of BODY_HEADERS) headers.delete(name)
    const init: RequestInit = {
      ...call.init,
      method: next.method,
      headers,
      body: next.keepsBody ? (call.init.body ?? null) : null,
    }
    const hop: Call = { url: next.url.href, init, request: undefined }
    const nextGrant = await protocol.again(grant, hop)
    return settle(hop, nextGrant, await send(hop, nextGrant), hops + 1)
  }

  function settle(call: Call, grant: Grant, response: Response, hops = 0): Response | Promise<Response> {
    const redirect = response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)
    if (redirect && followsHere(call, grant)) return follow(call, grant, response, hops)
    const next = protocol.onResponse(grant, call, response)
    if (next === undefined) return response
    return next.then(async (replay) => {
      if (!replay) return response
      // frees the connection of the discarded 401; a source may settle its cancel late
      response.body?.cancel().catch(() => {})
      return settle(call, replay, await send(call, replay), hops)
    })
  }

  const authorizedFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    // a `Request`, an init read through getters, or `FormData` (a new multipart boundary on every
    // send; a `Request` clone keeps the bytes for the replay) goes as a `Request`
    const direct = (typeof input === 'string' || input instanceof URL) && isPlain(init)
    const request = direct ? undefined : new Request(input, init)
    const url = request ? request.url : typeof input === 'string' ? input : (input as URL).href
    const own = request ? init?.body !== undefined && { body: init.body ?? null } : init
    const call: Call = { url, init: own || NO_INIT, request }
    let grant: ReturnType<typeof protocol.begin>
    try {
      grant = protocol.begin(call)
    } catch (error) {
      return Promise.reject(error)
    }
    if (grant === undefined) return send(call, undefined)
    if (grant instanceof Promise)
      return grant.then((g) => (g ? send(call, g).then((r) => settle(call, g, r)) : send(call, undefined)))
    const sent = grant
    return send(call, sent).then((response) => settle(call, sent, response))
  }
  return Object.assign(authorizedFetch, { [WRAPPED_FETCH]: given ?? bare })
}

/**
 * Whether this send's redirects are followed here: a DPoP proof names one URL, so each
 * same-origin hop needs its own; once the chain left the origin, fetch follows the rest.
 */
function followsHere(call: Call, grant: Grant): boolean {
  const mode = call.init.redirect ?? call.request?.redirect ?? 'follow'
  return grant.dpop && grant.authorization !== undefined && mode === 'follow'
}

/** `headers` with the grant's `authorization` and `dpop`; a plain record stays a record (fetch reads it fastest). */
function withGrant(headers: HeadersInit | undefined, grant: Grant): HeadersInit {
  const { authorization, proof } = grant
  if (headers === undefined || Object.getPrototypeOf(headers) === Object.prototype) {
    if (authorization === undefined) return headers ?? {}
    return proof === undefined ? { ...headers, authorization } : { ...headers, authorization, dpop: proof }
  }
  const copy = headers instanceof Headers ? headers : new Headers(headers)
  if (authorization !== undefined) copy.set('authorization', authorization)
  if (proof !== undefined) copy.set('dpop', proof)
  return copy
}

function isPlain(init: RequestInit | undefined): boolean {
  if (init === undefined) return true
  const proto = Object.getPrototypeOf(init)
  return (proto === null || proto === Object.prototype) && !(init.body instanceof FormData)
}

/** Whether the caller set `Authorization`, in any case. */
function hasAuthorization(headers: HeadersInit | undefined): boolean {
  if (headers === undefined || headers === null) return false
  if (headers instanceof Headers) return headers.has('authorization')
  if (Array.isArray(headers)) return headers.some(([name]) => name?.toLowerCase() === 'authorization')
  for (const name in headers) if (name.toLowerCase() === 'authorization') return true
  return false
}
