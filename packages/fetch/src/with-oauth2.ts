import {
  type AuthPolicyOptions,
  createAuthPolicy,
  type FetchLike,
  isReplayableBody,
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
 * - The caller's `signal` aborts the request and its wait for a token, never the token
 *   request other callers await.
 *
 * @example
 * const authFetch = withOAuth2(provider, { match: 'https://api.example.com' })
 * const response = await authFetch('https://api.example.com/orders', { method: 'POST', body: JSON.stringify(order) })
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge)
 */
export function withOAuth2(provider: TokenProvider, options: WithOAuth2Options = {}): Fetch {
  const { fetch: inner, ...policyOptions } = options
  const policy = createAuthPolicy(provider, policyOptions)
  const send: FetchLike = inner ?? ((request) => globalThis.fetch(request))

  return async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init)
    const url = new URL(request.url)
    if (request.headers.has('authorization') || !policy.authorizes(url)) return send(request)
    const token = await policy.tokenFor(url, { signal: request.signal })
    // a one-shot stream from the caller is not teed into memory: it is sent once, never replayed
    const spare = isReplayableBody(init?.body) ? request.clone() : undefined
    request.headers.set('authorization', policy.header(token))
    const response = await send(request)
    const fromElsewhere =
      response.redirected && response.url !== '' && new URL(response.url).origin !== url.origin
    if (
      !spare ||
      fromElsewhere ||
      !policy.shouldReplay(response.status, response.headers.get('www-authenticate'))
    ) {
      return response
    }
    const renewed = await policy.renew(token, { signal: request.signal })
    // frees the connection of the discarded 401; not awaited, a source may settle its cancel late
    response.body?.cancel().catch(() => {})
    spare.headers.set('authorization', policy.header(renewed))
    return send(spare)
  }
}
