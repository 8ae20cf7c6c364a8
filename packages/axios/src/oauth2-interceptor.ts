import {
  type AuthPolicyOptions,
  createAuthPolicy,
  isDpopBound,
  isReplayableBody,
  type Redirect,
  redirectTarget,
  type Token,
  type TokenProvider,
  type TokenWait,
} from '@tokenwell/core'
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios'

export interface OAuth2InterceptorOptions extends AuthPolicyOptions {}

/** What a request we authorized carries through axios; a string key, because axios < 1.13 drops symbols when it merges configs. */
const STATE = '__tokenwell'

interface AuthState {
  readonly token: Token
  readonly origin: string
  readonly replayed: boolean
  /**
   * A DPoP request's redirects left to follow here: a proof names one URL, so axios's own
   * following is off (`maxRedirects: 0`) and each same-origin hop gets a new proof.
   */
  readonly redirects?: number | undefined
}

type Config = InternalAxiosRequestConfig & { [STATE]?: AuthState }

/**
 * Adds bearer tokens from `provider` to requests made with `instance`, and answers a 401 by
 * renewing the token and replaying the request once. Returns `eject()`, which removes both
 * interceptors.
 *
 * - Which requests: `match` (origins, RegExp, predicate); by default only the origin of the
 *   instance's `baseURL` when it has one (an absolute URL to another host gets no token), and
 *   every request when it has none. A request that already has an `Authorization` header
 *   (per request, in `defaults.headers`, or set by a request interceptor registered later,
 *   since axios runs request interceptors last-registered-first) is left alone.
 * - Plain `http:` to a host that is not loopback rejects with `InsecureHttpError` unless
 *   `allowInsecureHttp` is set; nothing is sent.
 * - On a 401 (an `AxiosError`, or a response when `validateStatus` accepts 401): the token
 *   that request carried is invalidated, one token request serves every concurrent 401, and
 *   the request is replayed once through `instance` (its interceptors run again). A second
 *   401 reaches the caller as the `AxiosError` axios made, response attached. No replay for
 *   `error="insufficient_scope"`, a stream body, or a 401 from another origin after a redirect.
 * - A spec `FormData` body gets a fixed multipart boundary, so the replay is byte-identical.
 * - The token is removed on a redirect to another origin. `signal` aborts the wait for a
 *   token too, never the token request other callers await.
 * - DPoP (a provider with `dpop`, a token with `token_type` DPoP): every send and replay carries
 *   `Authorization: DPoP <token>` and a new `DPoP` proof for its method and URL. A 401
 *   `use_dpop_nonce` with a `DPoP-Nonce` is replayed once with a proof carrying the nonce (the
 *   token is kept, and later requests to that origin carry the nonce at once); that is the
 *   request's one replay, so a 401 after it reaches the caller. Redirects of a DPoP request are
 *   followed here (up to `maxRedirects`, default 21), each same-origin hop with a new proof,
 *   and past another origin without token or proof (axios follows the rest); `beforeRedirect`
 *   is not called for the hops followed here. In a browser, which follows redirects out of
 *   sight, the proof names the first URL.
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' })
 * const eject = oauth2Interceptor(api, provider)
 * const { data } = await api.get('/orders')
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge), RFC 9449 §7 (DPoP), §9 (nonce)
 */
export function oauth2Interceptor(
  instance: AxiosInstance,
  provider: TokenProvider,
  options: OAuth2InterceptorOptions = {},
): () => void {
  const policy = createAuthPolicy(provider, options)

  /** Sets `Authorization` (and a new `DPoP` proof for this method and URL); whether it is DPoP. */
  async function authorize(config: Config, token: Token, url: URL): Promise<boolean> {
    const headers = await policy.headersFor(token, { method: config.method ?? 'get', url })
    config.headers.set('Authorization', headers.authorization)
    if (headers.dpop !== undefined) config.headers.set('DPoP', headers.dpop)
    return headers.dpop !== undefined
  }

  /** The instance's base URLs, parsed once each (see `originUrl`). */
  const bases = new Map<string, URL | null>()

  /**
   * A URL with the request's origin, found without axios's `getUri` (which merges the whole
   * config again): the parsed `baseURL` for a URL under it, the URL itself when absolute.
   * `undefined` when only the whole URL will do.
   */
  function originUrl(config: Config): URL | undefined {
    const { url, baseURL } = config
    if (url !== undefined && typeof url !== 'string') return undefined
    const absolute = url !== undefined && ABSOLUTE_URL.test(url)
    if (typeof baseURL === 'string' && baseURL !== '' && (!absolute || config.allowAbsoluteUrls === false)) {
      let base = bases.get(baseURL)
      if (base === undefined) {
        base = PLAIN_BASE.test(baseURL) && URL.canParse(baseURL) ? new URL(baseURL) : null
        if (bases.size >= 32) bases.clear()
        bases.set(baseURL, base)
      }
      return base ?? undefined
    }
    return absolute && URL.canParse(url) ? new URL(url) : undefined
  }

  function onRequest(config: Config): Config | Promise<Config> {
    if (config[STATE]) return onFollowUp(config)
    if (config.headers.has('Authorization')) return config
    const url = (policy.decidesByOrigin ? originUrl(config) : undefined) ?? requestUrl(instance, config)
    if (!url || !policy.authorizes(url, config.baseURL)) return config
    const token = policy.peekToken(url)
    if (token === undefined || isDpopBound(token)) return authorizeAfterWait(config, url, token)
    // the common case, without a wait: a cached Bearer token
    config.headers.set('Authorization', policy.header(token))
    return authorized(config, token, url.origin)
  }

  /** Our own replay or redirect: the token it carries, a new proof; nothing past another origin. */
  async function onFollowUp(config: Config): Promise<Config> {
    const state = config[STATE]!
    const url = requestUrl(instance, config)
    if (url?.origin === state.origin) await authorize(config, state.token, url)
    return config
  }

  /** A request that waits for its token, or needs the whole URL for a DPoP proof. */
  async function authorizeAfterWait(config: Config, url: URL, peeked: Token | undefined): Promise<Config> {
    const wait = waitOf(config)
    let token: Token
    try {
      token = peeked ?? (await policy.tokenFor(url, wait))
    } catch (error) {
      // aborted while waiting: axios itself now rejects with its CanceledError, sending nothing
      if (wait.signal?.aborted) return config
      throw error
    }
    // a proof names the whole URL; `url` may be the base URL, with the same origin only
    const dpop = await authorize(
      config,
      token,
      isDpopBound(token) ? (requestUrl(instance, config) ?? url) : url,
    )
    // a browser follows redirects itself, out of sight: there the proof names the first URL
    const redirects =
      dpop && config.maxRedirects !== 0 && typeof XMLHttpRequest === 'undefined'
        ? (config.maxRedirects ?? 21) // 21: follow-redirects' default
        : undefined
    if (redirects !== undefined) config.maxRedirects = 0
    return authorized(config, token, url.origin, redirects)
  }

  /** Marks `config` as authorized with `token` for `origin`: the state replays and redirects read. */
  function authorized(config: Config, token: Token, origin: string, redirects?: number): Config {
    config[STATE] = { token, origin, replayed: false, ...(redirects !== undefined && { redirects }) }
    config.beforeRedirect = dropTokenOffOrigin(config.beforeRedirect, origin)
    pinMultipartBoundary(config)
    return config
  }

  /** Whether a response to a request we authorized may need a replay, a redirect or a nonce kept. */
  function wanted(response: AxiosResponse | undefined, state: AuthState | undefined): boolean {
    if (!response || !state) return false
    return state.redirects !== undefined || policy.wantsResponse(state.token, response.status)
  }

  async function replay(response: AxiosResponse | undefined, config: Config | undefined) {
    const state = config?.[STATE]
    if (!response || !config || !state || !wanted(response, state)) return undefined
    const url = requestUrl(instance, config)
    const location = response.headers.location
    const next =
      url && state.redirects !== undefined
        ? redirectTarget(
            { method: config.method ?? 'get', url },
            response.status,
            typeof location === 'string' ? location : undefined,
            state.origin,
          )
        : undefined
    if (next) return state.redirects! > 0 ? instance.request(redirected(config, state, next)) : undefined
    const final = finalUrl(response) ?? url?.href
    if (!final || new URL(final).origin !== state.origin) return undefined
    const decision = policy.afterResponse(state.token, {
      url: final,
      status: response.status,
      headers: response.headers,
    })
    if (state.replayed || decision === 'none' || !isReplayableBody(config.data)) return undefined
    const wait = waitOf(config)
    // a nonce demand keeps the token; aborted while waiting: the caller gets the 401 it had
    const token =
      decision === 'nonce'
        ? state.token
        : await policy.renew(state.token, wait).catch((error: unknown) => {
            if (wait.signal?.aborted) return undefined
            throw error
          })
    if (!token) return undefined
    const again: Config = { ...config, [STATE]: { ...state, token, replayed: true } }
    return instance.request(again)
  }

  const requestId = instance.interceptors.request.use(onRequest)
  const responseId = instance.interceptors.response.use(
    // most responses need nothing from us: returned as they are, without an async step
    (response) =>
      wanted(response, (response.config as Config)[STATE])
        ? replay(response, response.config).then((replayed) => replayed ?? response)
        : response,
    async (error: AxiosError) => {
      const replayed = await replay(error?.response, error?.config)
      if (replayed) return replayed
      throw error
    },
  )
  return function eject() {
    instance.interceptors.request.eject(requestId)
    instance.interceptors.response.eject(responseId)
  }
}

/** axios's own test for an absolute URL (`isAbsoluteURL`): a scheme and `//`, or just `//`. */
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i

/**
 * An http(s) base URL whose authority holds only plain URL characters up to its end or the
 * first `/`, `?` or `#`: axios joins a relative URL to it after a `/`, which cannot change the
 * origin. Other base URLs are left to `getUri`.
 */
const PLAIN_BASE = /^https?:\/\/[\w\-.~%!$&'()*+,;=:@[\]]+(?:[/?#]|$)/i

/** Headers that describe a body, dropped with it (Fetch standard's request-body-header names). */
const BODY_HEADERS = [
  'Content-Type',
  'Content-Length',
  'Content-Encoding',
  'Content-Language',
  'Content-Location',
]

/**
 * The request a DPoP request's redirect leads to: the next URL (its query is in `Location`),
 * method and body. Off-origin it goes without token, proof or cookie, and axios follows the rest.
 */
function redirected(config: Config, state: AuthState, next: Redirect): Config {
  const headers = config.headers.concat()
  headers.delete('DPoP') // onRequest proves each same-origin hop anew
  if (!next.keepsBody) for (const name of BODY_HEADERS) headers.delete(name)
  if (!next.sameOrigin)
    for (const name of ['Authorization', 'Cookie', 'Proxy-Authorization']) headers.delete(name)
  const redirects = state.redirects! - 1
  return {
    ...config,
    url: next.url.href,
    allowAbsoluteUrls: true,
    paramsSerializer: { serialize: () => '' },
    method: next.method,
    data: next.keepsBody ? config.data : undefined,
    headers,
    maxRedirects: next.sameOrigin ? 0 : redirects,
    [STATE]: next.sameOrigin ? { ...state, redirects } : { ...state, redirects: undefined },
  }
}

function requestUrl(instance: AxiosInstance, config: Config): URL | undefined {
  const page = (globalThis as { location?: { href?: string } }).location?.href
  const uri = instance.getUri(config)
  return URL.canParse(uri, page) ? new URL(uri, page) : undefined
}

/** The caller's signal and axios `timeout` (ms, 0 for none) also bound the wait for a token. */
function waitOf(config: Config): TokenWait {
  return { signal: config.signal instanceof AbortSignal ? config.signal : undefined, timeout: config.timeout }
}

/** Node's http adapter exposes the last URL of a redirect chain; browsers' XHR does too. */
function finalUrl(response: AxiosResponse): string | undefined {
  const request = response.request as { res?: { responseUrl?: unknown }; responseURL?: unknown } | undefined
  const url = request?.res?.responseUrl ?? request?.responseURL
  return typeof url === 'string' && URL.canParse(url) ? url : undefined
}

type BeforeRedirect = NonNullable<Config['beforeRedirect']>

/** axios (Node) and follow-redirects drop it already; this holds for every axios ^1 release and subdomains too. */
function dropTokenOffOrigin(before: Config['beforeRedirect'], origin: string): BeforeRedirect {
  return (options, response, request) => {
    before?.(options, response, request)
    const href = (options as { href?: unknown }).href
    if (typeof href === 'string' && URL.canParse(href) && new URL(href).origin === origin) return
    const headers = (options as { headers?: Record<string, unknown> }).headers ?? {}
    for (const name of Object.keys(headers)) if (/^(authorization|dpop)$/i.test(name)) delete headers[name]
  }
}

/**
 * axios picks a random multipart boundary on every send; fixing it before the first send
 * makes the replay byte-identical. Browsers drop the header and choose their own.
 */
function pinMultipartBoundary(config: Config): void {
  if (typeof FormData === 'undefined' || !(config.data instanceof FormData)) return
  const type = config.headers.getContentType()
  if (typeof type === 'string' && type !== '' && !/^multipart\/form-data\s*(;|$)/i.test(type)) return
  if (typeof type === 'string' && /boundary=/i.test(type)) return
  const random = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
    b.toString(16).padStart(2, '0'),
  )
  config.headers.setContentType(`multipart/form-data; boundary=tokenwell-${random.join('')}`)
}
