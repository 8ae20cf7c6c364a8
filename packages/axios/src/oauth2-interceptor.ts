import {
  type AuthPolicyOptions,
  createAuthPolicy,
  isReplayableBody,
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
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' })
 * const eject = oauth2Interceptor(api, provider)
 * const { data } = await api.get('/orders')
 * @see RFC 6750 §2.1 (the header), §3.1 (the 401 challenge)
 */
export function oauth2Interceptor(
  instance: AxiosInstance,
  provider: TokenProvider,
  options: OAuth2InterceptorOptions = {},
): () => void {
  const policy = createAuthPolicy(provider, options)

  async function onRequest(config: Config): Promise<Config> {
    const state = config[STATE]
    if (state) {
      // our own replay: the header still holds the token that got the 401
      config.headers.set('Authorization', policy.header(state.token))
      return config
    }
    const url = requestUrl(instance, config)
    if (!url || config.headers.has('Authorization') || !policy.authorizes(url, config.baseURL)) return config
    const wait = waitOf(config)
    let token: Token
    try {
      token = await policy.tokenFor(url, wait)
    } catch (error) {
      // aborted while waiting: axios itself now rejects with its CanceledError, sending nothing
      if (wait.signal?.aborted) return config
      throw error
    }
    config.headers.set('Authorization', policy.header(token))
    config[STATE] = { token, origin: url.origin, replayed: false }
    config.beforeRedirect = dropTokenOffOrigin(config.beforeRedirect, url.origin)
    pinMultipartBoundary(config)
    return config
  }

  async function replay(response: AxiosResponse | undefined, config: Config | undefined) {
    const state = config?.[STATE]
    if (!response || !config || !state || state.replayed) return undefined
    const final = finalUrl(response)
    if (final && new URL(final).origin !== state.origin) return undefined
    if (!policy.shouldReplay(response.status, response.headers['www-authenticate'])) return undefined
    if (!isReplayableBody(config.data)) return undefined
    const wait = waitOf(config)
    // aborted while waiting: the caller gets the 401 it had, nothing more is sent
    const token = await policy.renew(state.token, wait).catch((error: unknown) => {
      if (wait.signal?.aborted) return undefined
      throw error
    })
    if (!token) return undefined
    const again: Config = { ...config, [STATE]: { token, origin: state.origin, replayed: true } }
    return instance.request(again)
  }

  const requestId = instance.interceptors.request.use(onRequest)
  const responseId = instance.interceptors.response.use(
    async (response) => (await replay(response, response.config)) ?? response,
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
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name]
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
