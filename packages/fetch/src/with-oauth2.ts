import {
  type AuthPolicyOptions,
  createAuthPolicy,
  type FetchLike,
  isDpopBound,
  isReplayableBody,
  type Redirect,
  redirectTarget,
  type Token,
  type TokenProvider,
} from '@tokenwell/core'

/** A function with the signature of WHATWG `fetch`. */
export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

export interface WithOAuth2Options extends AuthPolicyOptions {
  /**
   * The fetch to wrap (undici's, a proxy-aware one, a test double). It is always called with
   * one `Request`.
   * @default globalThis.fetch, resolved per call
   */
  fetch?: FetchLike
}

/**
 * Wraps `fetch` so that requests get `Authorization: <tokenType> <accessToken>` from `provider`,
 * and a 401 is answered by renewing the token and replaying the request once.
 *
 * - Which requests: `match` (origins, RegExp, predicate); by default every request made
 *   through the returned function. A request that has its own `Authorization` is sent as is.
 * - Plain `http:` to a host that is not loopback rejects with `InsecureHttpError` unless
 *   `allowInsecureHttp` is set; nothing is sent.
 * - On a 401: the token that request carried is invalidated (compare-and-invalidate), one
 *   token request serves every concurrent 401, and the request is replayed once; a second
 *   401 is returned as is. No replay for `error="insufficient_scope"`, for a
 *   `ReadableStream` or async-iterable body (it cannot be sent twice; the 401 is returned),
 *   or for a 401 from another origin after a redirect.
 * - Bodies are replayed byte for byte: the request is cloned before it is sent, so a
 *   `FormData` body keeps its multipart boundary and a `Request` input keeps its body.
 * - Redirects follow fetch's own rules: the token is dropped on a cross-origin redirect.
 * - DPoP (a provider with `dpop`, a token with `token_type` DPoP): every send carries
 *   `Authorization: DPoP <token>` and a new `DPoP` proof for its method and URL. A 401
 *   `use_dpop_nonce` with a `DPoP-Nonce` is replayed once with a proof carrying that nonce (the
 *   token is kept); the nonce is kept for the origin, so later requests carry it at once. That
 *   replay is the request's one replay: a 401 after it is returned as is. Redirects are followed
 *   here (`redirect: 'manual'` underneath, at most 20), with a new proof per same-origin hop and
 *   neither token nor proof past another origin; a browser, which hides redirects, follows them
 *   itself. A stream body is sent once, with fetch's own redirects.
 * - The caller's `signal` aborts the request and its wait for a token, never the token
 *   request other callers await.
 *
 * @example
 * const authFetch = withOAuth2(provider, { match: 'https://api.example.com' })
 * const response = await authFetch('https://api.example.com/orders', { method: 'POST', body: JSON.stringify(order) })
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge), RFC 9449 §7 (DPoP), §9 (nonce)
 */
export function withOAuth2(provider: TokenProvider, options: WithOAuth2Options = {}): Fetch {
  const { fetch: inner, ...policyOptions } = options
  const policy = createAuthPolicy(provider, policyOptions)
  const send: FetchLike = inner ?? ((request) => globalThis.fetch(request))
  /** The same fetch, from a URL and init: an injected fetch still gets one `Request`. */
  const sendInit = (url: string, init: RequestInit | undefined): Promise<Response> =>
    inner ? inner(new Request(url, init)) : globalThis.fetch(url, init)

  /**
   * The common case: a URL, and an init whose body fetch reads anew on every call. No `Request`
   * of our own (each one costs fetch a signal and listeners) and no copy kept: the replay is
   * the same call again with the new token.
   */
  async function fetchDirect(href: string, url: URL, init: RequestInit | undefined): Promise<Response> {
    const headers = ownHeaders(init?.headers)
    if (hasAuthorization(headers) || !policy.authorizes(url)) return sendInit(href, init)
    const wait = { signal: init?.signal ?? undefined }
    let token = policy.peekToken(url) ?? (await policy.tokenFor(url, wait))
    // a DPoP-bound token names the request in its proof: the general path follows redirects for it
    if (isDpopBound(token)) return fetchRequest(new Request(href, init), init)
    const response = await sendInit(href, { ...init, headers: withAuthorization(headers, token) })
    if (!policy.wantsResponse(token, response.status)) return response
    const fromElsewhere =
      response.redirected && response.url !== '' && new URL(response.url).origin !== url.origin
    if (fromElsewhere) return response
    const decision = policy.afterResponse(token, { url, status: response.status, headers: response.headers })
    if (decision === 'none') return response
    token = await policy.renew(token, wait)
    // frees the connection of the discarded 401; not awaited, a source may settle its cancel late
    response.body?.cancel().catch(() => {})
    return sendInit(href, { ...init, headers: withAuthorization(headers, token) })
  }

  /** The caller's headers and `authorization` for `token`; a record stays a record (fetch reads it fastest). */
  function withAuthorization(headers: Headers | Record<string, string>, token: Token): HeadersInit {
    const authorization = policy.header(token)
    if (!(headers instanceof Headers)) return { ...headers, authorization }
    headers.set('authorization', authorization)
    return headers
  }

  /** Any other request: a `Request` input, a body read once (stream, FormData), or DPoP. */
  async function fetchRequest(request: Request, init: RequestInit | undefined): Promise<Response> {
    const origin = new URL(request.url).origin
    const first = new URL(request.url)
    if (request.headers.has('authorization') || !policy.authorizes(first)) return send(request)
    const wait = { signal: request.signal }
    let token = policy.peekToken(first) ?? (await policy.tokenFor(first, wait))
    // a one-shot stream from the caller is not teed into memory: it is sent once, never replayed
    const replayable = isReplayableBody(init?.body)
    let current = request
    let manual: boolean | undefined
    let replayed = false
    for (let hops = 0; ; ) {
      const url = new URL(current.url)
      const spare = replayable ? copier(current) : undefined
      const headers = await policy.headersFor(token, { method: current.method, url })
      for (const [name, value] of Object.entries(headers)) current.headers.set(name, value)
      // a DPoP proof names one URL and method: redirects are followed here, with a proof per hop
      manual ??= headers.dpop !== undefined && spare !== undefined && current.redirect === 'follow'
      const response = await send(manual ? new Request(current, { redirect: 'manual' }) : current)
      if (manual && spare) {
        if (response.type === 'opaqueredirect') {
          // a browser hides where a redirect leads: send again and let it follow
          manual = false
          current = spare()
          continue
        }
        const next = redirectTarget(current, response.status, response.headers.get('location'), origin)
        if (next) {
          if (++hops > 20) throw new TypeError('fetch failed: redirect count exceeded') // as fetch does
          response.body?.cancel().catch(() => {})
          current = redirected(spare(), next)
          if (next.sameOrigin) continue
          return send(current) // elsewhere: no token, no proof, and fetch follows the rest
        }
      }
      if (!policy.wantsResponse(token, response.status)) return response
      const fromElsewhere =
        response.redirected && response.url !== '' && new URL(response.url).origin !== origin
      const decision = fromElsewhere
        ? 'none'
        : policy.afterResponse(token, { url, status: response.status, headers: response.headers })
      if (!spare || replayed || decision === 'none') return response
      replayed = true
      if (decision === 'renew') token = await policy.renew(token, wait)
      // frees the connection of the discarded 401; not awaited, a source may settle its cancel late
      response.body?.cancel().catch(() => {})
      current = spare()
    }
  }

  return async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined
    const url =
      href !== undefined && provider.dpop === undefined && isPlainInit(init) && isReusableBody(init?.body)
        ? absoluteUrl(href)
        : undefined
    if (url) return fetchDirect(href!, url, init)
    return fetchRequest(new Request(input, init), init)
  }
}

/** `href` parsed, or `undefined` for a relative URL (which only a `Request` resolves, against the page). */
function absoluteUrl(href: string): URL | undefined {
  try {
    return new URL(href)
  } catch {
    return undefined
  }
}

/** The caller's headers: a plain record as it is, anything else (`Headers`, pairs) as `Headers`. */
function ownHeaders(headers: HeadersInit | null | undefined): Headers | Record<string, string> {
  if (headers === undefined || headers === null) return {}
  const proto = Object.getPrototypeOf(headers)
  if (proto === Object.prototype || proto === null) return headers as Record<string, string>
  return new Headers(headers)
}

/** Whether the caller set `Authorization`, in any case. */
function hasAuthorization(headers: Headers | Record<string, string>): boolean {
  if (headers instanceof Headers) return headers.has('authorization')
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') return true
  return false
}

/** An init whose members a spread copies (not a class instance with getters, such as a `Request`). */
function isPlainInit(init: RequestInit | undefined): boolean {
  if (init === undefined || init === null) return true
  const proto = Object.getPrototypeOf(init)
  return proto === Object.prototype || proto === null
}

/**
 * A body fetch reads anew, to the same bytes, on every call with the same init: none, a
 * string, `URLSearchParams`, a `Blob` or bytes. Not `FormData` (a new multipart boundary each
 * time) and not streams or iterables (read once).
 */
function isReusableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== 'undefined' && body instanceof Blob)
  )
}

/**
 * A way to get a copy of `request` as it is now, for its replay or redirect: a body can only
 * be copied before the request is sent; a request without one is rebuilt later, if ever.
 */
function copier(request: Request): () => Request {
  if (request.body !== null) {
    const copy = request.clone()
    return () => copy
  }
  const headers = new Headers(request.headers)
  return () => new Request(request, { headers })
}

/** Headers that describe a body, dropped with it (Fetch standard's request-body-header names). */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
]

/** The request a redirect leads to: the next method and body; off-origin without credentials. */
function redirected(from: Request, next: Redirect): Request {
  const headers = new Headers(from.headers)
  headers.delete('dpop') // a proof names one request
  if (!next.keepsBody) for (const name of BODY_HEADERS) headers.delete(name)
  if (!next.sameOrigin)
    for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name)
  return new Request(next.url, {
    method: next.method,
    headers,
    body: next.keepsBody ? from.body : null,
    // Node needs duplex for a stream body; browsers ignore it
    ...(next.keepsBody && from.body !== null && { duplex: 'half' }),
    signal: from.signal,
    redirect: 'follow',
    credentials: from.credentials,
    cache: from.cache,
    referrerPolicy: from.referrerPolicy,
  } as RequestInit)
}
