import {
  type AuthPolicyOptions,
  createAuthPolicy,
  isDpopBound,
  isReplayableBody,
  type Token,
  type TokenProvider,
  type TokenWait,
} from '@tokenwell/core'
import type { AfterResponseHook, BeforeRequestHook, InitHook, OptionsInit } from 'got'

export interface OAuth2HooksOptions extends AuthPolicyOptions {}

/** What `got.extend()` receives from `oauth2Hooks()`. */
export interface OAuth2Hooks {
  hooks: { init: InitHook[]; beforeRequest: BeforeRequestHook[]; afterResponse: AfterResponseHook[] }
}

/**
 * Kept in `options.context`, which got copies to every retry and redirect of one request
 * (and never to another request): the token it carries and the origin it was authorized for.
 */
const STATE = Symbol.for('tokenwell.got.state')
/** The instance's `prefixUrl`, kept in `context` when a request overrides it (`prefixUrl: ''`). */
const BASE = Symbol.for('tokenwell.got.base')

interface AuthState {
  token: Token
  header: string
  /** The DPoP proof last set, for a DPoP-bound token. */
  proof: string | undefined
  readonly origin: string
  replayed: boolean
}

/** The options a `beforeRequest` hook receives (its exact type differs between got 14 releases). */
type HookOptions = Parameters<BeforeRequestHook>[0]

const stateOf = (options: { context: object }) =>
  (options.context as Record<symbol, AuthState | undefined>)[STATE]
const baseOf = (options: HookOptions) =>
  (options.context as Record<symbol, string | undefined>)[BASE] ??
  (options.prefixUrl === '' ? undefined : options.prefixUrl)

/**
 * Hooks for `got.extend()` that add bearer tokens from `provider` and answer a 401 by renewing
 * the token and replaying the request once.
 *
 * - Which requests: `match` (origins, RegExp, predicate); by default only the origin of
 *   `prefixUrl` when the instance has one (an absolute URL to another host gets no token),
 *   and every request when it has none. A request with its own `authorization` header (or
 *   `username`/`password`) is left alone.
 * - Plain `http:` to a host that is not loopback fails with got's `RequestError` (code
 *   `ERR_INSECURE_HTTP`, our `InsecureHttpError` as `cause`) unless `allowInsecureHttp` is set.
 * - On a 401: the token that request carried is invalidated, one token request serves every
 *   concurrent 401, and the request is replayed once with got's `retryWithMergedOptions`
 *   (got's retry limit is not spent). A second 401 is got's `HTTPError` (or the response,
 *   with `throwHttpErrors: false`). No replay for `error="insufficient_scope"`, a stream or
 *   generator body, or a 401 from another origin after a redirect.
 * - got's own retries and same-origin redirects carry the current token; got removes it on a
 *   redirect to another origin, and it is never added back there. A `FormData` body is
 *   buffered once so that retries and the replay send the same bytes.
 * - `signal` aborts the wait for a token too, never the token request other callers await.
 * - DPoP (a provider with `dpop`, a token with `token_type` DPoP): every send, got retry, replay
 *   and same-origin redirect carries `authorization: DPoP <token>` and a new `dpop` proof for its
 *   method and URL; after a redirect to another origin neither is sent. A 401 `use_dpop_nonce`
 *   with a `DPoP-Nonce` is replayed once with a proof carrying the nonce (the token is kept, and
 *   later requests to that origin carry the nonce at once). That is the request's one replay: a
 *   401 after it reaches the caller.
 *
 * @example
 * const api = got.extend(oauth2Hooks(provider), { prefixUrl: 'https://api.example.com' })
 * const orders = await api.get('orders').json()
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge), RFC 9449 §7 (DPoP), §9 (nonce)
 */
export function oauth2Hooks(provider: TokenProvider, options: OAuth2HooksOptions = {}): OAuth2Hooks {
  const policy = createAuthPolicy(provider, options)

  // got only takes an absolute URL from an instance with a prefixUrl when the request sets
  // `prefixUrl: ''`; the instance's base still decides, so a presigned URL gets no token
  const init: InitHook = (raw, options) => {
    const context = options.context as Record<symbol, string | undefined>
    if (raw.prefixUrl !== undefined && options.prefixUrl !== '' && context[BASE] === undefined) {
      context[BASE] = String(options.prefixUrl)
    }
  }

  /** Sets `authorization` (and a fresh `dpop` proof for this method and URL) from `token`. */
  async function authorize(options: HookOptions, url: URL, token: Token, state: AuthState | undefined) {
    const headers = await policy.headersFor(token, { method: options.method, url })
    options.headers.authorization = headers.authorization
    if (headers.dpop !== undefined) options.headers.dpop = headers.dpop
    else if (state?.proof !== undefined && options.headers.dpop === state.proof) delete options.headers.dpop
    const next = state ?? { token, header: '', proof: undefined, origin: url.origin, replayed: false }
    next.token = token
    next.header = headers.authorization
    next.proof = headers.dpop
    return next
  }

  const beforeRequest: BeforeRequestHook = (options) => {
    const url = options.url instanceof URL ? options.url : undefined
    if (!url) return
    const state = stateOf(options)
    if (state) {
      // a retry, replay or redirect of a request we authorized: a new proof for each
      if (url.origin !== state.origin) {
        if (options.headers.authorization === state.header) delete options.headers.authorization
        if (state.proof !== undefined && options.headers.dpop === state.proof) delete options.headers.dpop
        return
      }
      return reauthorize(options, url, state)
    }
    if (options.headers.authorization !== undefined || options.username || options.password) return
    if (!policy.authorizes(url, baseOf(options))) return
    const token = policy.peekToken(url)
    if (token === undefined || isDpopBound(token) || !isReplayableBody(options.body))
      return authorizeAfterWait(options, url, token)
    // the common case, without a wait: a cached Bearer token and a body got can send again
    const header = policy.header(token)
    options.headers.authorization = header
    ;(options.context as Record<symbol, AuthState>)[STATE] = {
      token,
      header,
      proof: undefined,
      origin: url.origin,
      replayed: false,
    }
  }

  /** got's own retry or redirect to the same origin, or our replay: the current token, a new proof. */
  async function reauthorize(options: HookOptions, url: URL, state: AuthState): Promise<void> {
    const token = await tokenOrAbort(() => policy.tokenFor(url, waitOf(options)), options)
    if (token) await authorize(options, url, token, state)
  }

  /** A request that waits for its token, needs a DPoP proof, or has a multipart body to buffer. */
  async function authorizeAfterWait(
    options: HookOptions,
    url: URL,
    peeked: Token | undefined,
  ): Promise<void> {
    const token = peeked ?? (await tokenOrAbort(() => policy.tokenFor(url, waitOf(options)), options))
    if (!token) return
    ;(options.context as Record<symbol, AuthState>)[STATE] = await authorize(options, url, token, undefined)
    await bufferMultipart(options)
  }

  const afterResponse: AfterResponseHook = (response, retryWithMergedOptions) => {
    const state = stateOf(response.request.options)
    // most responses need nothing from us: returned as they are, without an async step
    if (!state || !policy.wantsResponse(state.token, response.statusCode)) return response
    return replay(response, state, retryWithMergedOptions)
  }

  async function replay(
    response: Parameters<AfterResponseHook>[0],
    state: AuthState,
    retryWithMergedOptions: Parameters<AfterResponseHook>[1],
  ) {
    const { options } = response.request
    if (new URL(response.url).origin !== state.origin) return response
    const decision = policy.afterResponse(state.token, {
      url: response.url,
      status: response.statusCode,
      headers: response.headers,
    })
    if (state.replayed || decision === 'none' || !isReplayableBody(options.body)) return response
    state.replayed = true
    // a nonce demand keeps the token: beforeRequest proves the replay with the nonce now kept
    if (
      decision === 'renew' &&
      !(await tokenOrAbort(() => policy.renew(state.token, waitOf(options)), options))
    )
      return response
    // beforeRequest puts the renewed token on the replay. got counts the replay as a retry, so
    // the limit grows by one: got's own retries stay available. preserveHooks (got ≥ 14.5) lets
    // the caller's later afterResponse hooks see the replay's response, as without us.
    const merged = { retry: { limit: (options.retry.limit ?? 2) + 1 } } // 2: got's default
    try {
      // awaited: got < 14.5 makes this function async, so its error is a rejection
      return await retryWithMergedOptions({ preserveHooks: true, ...merged } as OptionsInit)
    } catch (error) {
      if ((error as Error)?.name === 'RetryError') throw error
      return retryWithMergedOptions(merged) // an older got: "Unexpected option: preserveHooks"
    }
  }

  return { hooks: { init: [init], beforeRequest: [beforeRequest], afterResponse: [afterResponse] } }
}

/** The caller's signal and got's `timeout.request` (ms) also bound the wait for a token. */
function waitOf(options: { signal?: unknown; timeout: { request?: number | undefined } }): TokenWait {
  return {
    signal: options.signal instanceof AbortSignal ? options.signal : undefined,
    timeout: options.timeout.request,
  }
}

/** A wait the caller aborted yields `undefined`: got has already failed the request with its own AbortError. */
async function tokenOrAbort(
  get: () => Promise<Token>,
  options: { signal?: unknown },
): Promise<Token | undefined> {
  try {
    return await get()
  } catch (error) {
    if (options.signal instanceof AbortSignal && options.signal.aborted) return undefined
    throw error
  }
}

/**
 * got encodes a `FormData` body into a one-shot generator before hooks run (so its own retries
 * would send nothing); reading it into a buffer keeps the boundary and bytes for every resend.
 */
async function bufferMultipart(options: HookOptions): Promise<void> {
  const body = options.body as unknown
  const type = options.headers['content-type']
  if (isReplayableBody(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return
  if (typeof type !== 'string' || !/^multipart\/form-data/i.test(type)) return
  const chunks: Uint8Array[] = []
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  options.body = Buffer.concat(chunks)
}
