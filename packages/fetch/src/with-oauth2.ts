import type { FetchLike, TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  awaitConnection,
  type ClientShape,
  checkedFetch,
  createProtocolWithoutScrub,
  fetchHopByHop,
  followsRedirectsHere,
  type Grant,
  hasAuthorization,
  isReplayableBody,
  setGrantHeaders,
  unwrapFetch,
  WRAPPED_FETCH,
} from '@tokenwell/core/adapter'

/** A function with the signature of WHATWG `fetch`. */
export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

export interface WithOAuth2Options extends AdapterOptions {
  /**
   * The fetch to wrap (undici's, a proxy-aware one, a test double), called with one `Request`; an
   * authorized request's redirects are then followed here, hop by hop (outside a browser).
   * @default globalThis.fetch as it is when `withOAuth2` is called
   */
  fetch?: FetchLike
}

/** One call: the URL, the caller's init, and the `Request` when the caller passed one. */
type Call = { url: string; init: RequestInit; request: Request | undefined }

const NO_INIT: RequestInit = Object.freeze({})
const callOf = (request: Request): Call => ({ url: request.url, init: NO_INIT, request })

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
  redirects: (response) => (response.redirected ? null : undefined), // fetch tells no hops
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
 * left the origin. In Node, a dispatcher bound to another origin (a `Client`, `Pool`) gets no token.
 * @example
 * const authFetch = withOAuth2(provider, { match: 'https://api.example.com' })
 * const response = await authFetch('https://api.example.com/orders', { method: 'POST', body })
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7, §9
 */
export function withOAuth2(provider: TokenProvider, options: WithOAuth2Options = {}): Fetch {
  const { fetch: given, ...rest } = options
  // fetch's errors hold no request, only text: in Node, the bytes of a head undici could not parse
  const protocol = createProtocolWithoutScrub(provider, rest, shape)
  const rethrow = (error: unknown) => Promise.reject(protocol.scrubCauses(error))
  const bare = unwrapFetch(globalThis.fetch)
  const raw = (input: string | Request, init?: RequestInit) =>
    given ? given(typeof input === 'string' ? new Request(input, init) : input) : bare(input, init)
  const checked = checkedFetch(raw)

  function send(call: Call, grant: Grant | undefined): Promise<Response> {
    if (call.request) {
      const sending = call.request
      if (sending.body !== null) call.request = sending.clone() // the copy for a replay
      if (!grant) return raw(sending)
      return checked(new Request(sending, { headers: withGrant(sending.headers, grant) }))
    }
    if (!grant) return raw(call.url, call.init === NO_INIT ? undefined : call.init)
    awaitConnection(grant.authorization, call.url)
    return raw(call.url, { ...call.init, headers: withGrant(call.init.headers, grant) })
  }

  /** Sends `call` with `grant`, and what the protocol makes of the response. */
  function dispatch(call: Call, grant: Grant): Promise<Response> {
    // a DPoP proof names one URL, a caller's fetch may keep the token past the origin: hop by hop here
    const mode =
      followsRedirectsHere(grant, given !== undefined) && (call.init.redirect ?? call.request?.redirect)
    if (mode !== 'follow' && mode !== undefined)
      return send(call, grant).then((response) => settle(call, grant, response), rethrow)
    const request = call.request ?? new Request(call.url, call.init)
    const replayable = isReplayableBody(shape.body!(call))
    return fetchHopByHop(
      checked,
      request,
      grant,
      (g, hop) => protocol.again(g, callOf(hop)),
      replayable,
    ).then((last) => settle(callOf(last.request), last.grant, last.response), rethrow)
  }

  function settle(call: Call, grant: Grant, response: Response): Response | Promise<Response> {
    const next = protocol.onResponse(grant, call, response)
    if (next === undefined) return response
    return next.then((replay) => {
      if (!replay) return response
      // frees the connection of the discarded 401; a source may settle its cancel late
      response.body?.cancel().catch(() => {})
      return dispatch(call, replay)
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
    if (grant instanceof Promise) return grant.then((g) => (g ? dispatch(call, g) : send(call, undefined)))
    return dispatch(call, grant)
  }
  return Object.assign(authorizedFetch, { [WRAPPED_FETCH]: given ?? bare })
}

/** `headers` with the grant's `authorization` and `dpop`; a plain record stays a record (fetch reads it fastest). */
function withGrant(headers: HeadersInit | undefined, grant: Grant): HeadersInit {
  if (headers !== undefined && Object.getPrototypeOf(headers) !== Object.prototype)
    return setGrantHeaders(new Headers(headers), grant) // never the caller's own `Headers`
  const { authorization, proof } = grant
  if (authorization === undefined) return headers ?? {}
  return proof === undefined ? { ...headers, authorization } : { ...headers, authorization, dpop: proof }
}

function isPlain(init: RequestInit | undefined): boolean {
  const proto = init === undefined ? null : Object.getPrototypeOf(init)
  return (proto === null || proto === Object.prototype) && !(init?.body instanceof FormData)
}
