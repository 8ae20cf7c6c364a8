import {
  type AuthPolicyOptions,
  createAuthPolicy,
  type FetchLike,
  isReplayableBody,
  type Redirect,
  redirectTarget,
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

  return async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init)
    const origin = new URL(request.url).origin
    if (request.headers.has('authorization') || !policy.authorizes(new URL(request.url))) return send(request)
    const wait = { signal: request.signal }
    let token = await policy.tokenFor(new URL(request.url), wait)
    // a one-shot stream from the caller is not teed into memory: it is sent once, never replayed
    const replayable = isReplayableBody(init?.body)
    let current = request
    let manual: boolean | undefined
    let replayed = false
    for (let hops = 0; ; ) {
      const url = new URL(current.url)
      const spare = replayable ? current.clone() : undefined
      const headers = await policy.headersFor(token, { method: current.method, url })
      for (const [name, value] of Object.entries(headers)) current.headers.set(name, value)
      // a DPoP proof names one URL and method: redirects are followed here, with a proof per hop
      manual ??= headers.dpop !== undefined && spare !== undefined && current.redirect === 'follow'
      const response = await send(manual ? new Request(current, { redirect: 'manual' }) : current)
      if (manual && spare) {
        if (response.type === 'opaqueredirect') {
          // a browser hides where a redirect leads: send again and let it follow
          manual = false
          current = spare
          continue
        }
        const next = redirectTarget(current, response.status, response.headers.get('location'), origin)
        if (next) {
          if (++hops > 20) throw new TypeError('fetch failed: redirect count exceeded') // as fetch does
          response.body?.cancel().catch(() => {})
          current = redirected(spare, next)
          if (next.sameOrigin) continue
          return send(current) // elsewhere: no token, no proof, and fetch follows the rest
        }
      }
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
      current = spare
    }
  }
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
