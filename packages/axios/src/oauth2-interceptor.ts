import type { TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  type ClientShape,
  createRequestProtocol,
  followedHops,
  followHop,
  type Grant,
  IN_BROWSER,
  pinnedMultipartType,
  recordHeader,
  redirectTarget,
  unseenRedirects,
} from '@tokenwell/core/adapter'
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios'

export interface OAuth2InterceptorOptions extends AdapterOptions {}

/** Where a request keeps its grant through axios: a string key (axios < 1.13 drops symbols when it merges configs). */
const STATE = '__tokenwell'
/** A DPoP request's redirects left to follow here (`maxRedirects: 0` underneath: a proof names one URL). */
const HOPS = '__tokenwellHops'
type Config = InternalAxiosRequestConfig & { [STATE]?: Grant; [HOPS]?: number }
type BeforeRedirect = NonNullable<Config['beforeRedirect']>
type Hook = BeforeRedirect & { ours?: true; theirs?: BeforeRedirect | undefined } // ours, calling theirs
/** axios's own test for an absolute URL (`isAbsoluteURL`). */
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i
/** A config's `data` is the sent body once axios transformed it: sent again, it is not transformed twice. */
const AS_SENT = { transformRequest: [] }
/** A base URL whose authority a joined relative path cannot change: its origin is the request's. */
const PLAIN_BASE = /^https?:\/\/[\w\-.~%!$&'()*+,;=:@[\]]+(?:[/?#]|$)/i

/**
 * Puts tokens from `provider` on requests made with `instance`, as `@tokenwell/core/adapter` decides
 * (by default only to the origin of the instance's `baseURL`, also when a request sets `baseURL: ''`);
 * a 401 renews the token and replays once through `instance`. Errors carry no token; a retry library
 * that re-sends `error.config` gets it authorized again. Returns `eject()`.
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' })
 * oauth2Interceptor(api, provider)
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7, §9
 */
export function oauth2Interceptor(
  instance: AxiosInstance,
  provider: TokenProvider,
  options: OAuth2InterceptorOptions = {},
): () => void {
  const shape: ClientShape<Config, AxiosResponse> = {
    url(config, whole) {
      const { url = '', baseURL } = config
      if (!baseURL || (ABSOLUTE_URL.test(url) && config.allowAbsoluteUrls !== false)) return url
      return !whole && PLAIN_BASE.test(baseURL) ? baseURL : instance.getUri(config)
    },
    method: (config) => config.method ?? 'get',
    base: (config) => config.baseURL,
    defaultBase: () => instance.defaults.baseURL,
    ownCredentials: (config) => config.auth !== undefined || config.headers.has('Authorization'),
    body: (config) => config.data,
    signal: (config) => (config.signal instanceof AbortSignal ? config.signal : undefined),
    timeout: (config) => config.timeout,
    status: (response) => response.status,
    header: (response, name) => recordHeader(response.headers, name),
    // Node's http adapter and browsers' XHR expose the last URL of a redirect chain
    responseUrl: ({ request }) => request?.res?.responseUrl || request?.responseURL || undefined,
    // follow-redirects' hops as ours saw them; XHR tells only that the last URL is another (`null`)
    redirects: ({ request, config }) =>
      followedHops(request?._redirectable?._options) ??
      unseenRedirects(request?.responseURL, instance.getUri(config)),
  }
  const protocol = createRequestProtocol(provider, options, shape)
  const hooks = new WeakMap<Grant, Hook>()
  function apply(config: Config, grant: Grant | undefined): Config {
    if (grant === undefined) return config
    config[STATE] = grant
    if (grant.authorization === undefined) config.headers.delete(['Authorization', 'DPoP'])
    else config.headers.set('Authorization', grant.authorization)
    if (grant.proof !== undefined) config.headers.set('DPoP', grant.proof)
    // a proof names one URL: Node's adapter stops at a redirect, a browser's fetch adapter fails on one
    // (XHR follows every redirect itself, with the proof but never the token: use `adapter: 'fetch'`)
    if (grant.dpop && IN_BROWSER) config.fetchOptions = { ...config.fetchOptions, redirect: 'manual' }
    else if (grant.dpop && config[HOPS] === undefined) {
      config[HOPS] = config.maxRedirects ?? 21 // 21: follow-redirects' default
      config.maxRedirects = 0
    }
    config.beforeRedirect = hookFor(grant, config.beforeRedirect)
    // axios picks a random multipart boundary on every send: one fixed now makes the replay byte-identical
    const multipart = config.data instanceof FormData && pinnedMultipartType(config.headers.getContentType())
    if (multipart) config.headers.setContentType(multipart)
    return config
  }
  /** Ours strips what the protocol says (follow-redirects spares subdomains), then the caller's runs. */
  function hookFor(grant: Grant, current: Hook | undefined): Hook {
    const theirs = current?.theirs ?? (current?.ours ? undefined : current)
    if (!theirs && hooks.has(grant)) return hooks.get(grant)!
    const leaveThen: BeforeRedirect = (next, ...rest) => {
      followHop(next, protocol.again(grant, { url: next.href } as Config))
      theirs?.(next, ...rest)
    }
    const hook: Hook = Object.assign(leaveThen, { ours: true as const, theirs })
    if (!theirs) hooks.set(grant, hook)
    return hook
  }
  function onRequest(config: Config): Config | Promise<Config> {
    const state = config[STATE]
    const header = state && config.headers.get('Authorization')
    // a replay, a hop followed here, or a retry library re-sending error.config (what the grant put
    // there, or nothing); a new request made of an earlier one's config with an Authorization of
    // its own is new: `begin` leaves it as it is
    if (state !== undefined) {
      if (header == null || header === state.authorization)
        return Promise.resolve(protocol.again(state, config)).then((g) => apply(config, g))
      delete config[STATE]
    }
    const grant = protocol.begin(config)
    return grant instanceof Promise ? grant.then((g) => apply(config, g)) : apply(config, grant)
  }
  /** A redirect of a DPoP request, followed here; `undefined` when it is none. */
  function follow(config: Config, response: AxiosResponse): Promise<AxiosResponse> | undefined {
    const hops = config[HOPS]
    const url = hops === undefined ? undefined : instance.getUri(config)
    const location = response.headers.location
    const next = url && redirectTarget({ method: shape.method(config), url }, response.status, location)
    if (!next || hops === 0) return undefined
    const headers = config.headers.concat()
    for (const name of next.dropsHeaders) headers.delete(name)
    const hop = { ...config, url: next.url.href, baseURL: '', params: {}, method: next.method, headers }
    const data = next.keepsBody ? config.data : undefined
    return instance.request({ ...hop, ...AS_SENT, data, [HOPS]: hops! - 1 } as Config)
  }

  function settle(response: AxiosResponse | undefined): Promise<AxiosResponse | undefined> | undefined {
    const config = response?.config as Config | undefined
    const grant = config?.[STATE]
    if (!response || !config || grant === undefined) return undefined
    const replay = (g: Grant | undefined) => {
      if (!g) return g
      const headers = config.headers.concat()
      headers.delete('Authorization') // the old token's: `g` puts its own
      return instance.request({ ...config, ...AS_SENT, headers, [STATE]: g } as Config)
    }
    return (
      (grant.dpop && follow(config, response)) || protocol.onResponse(grant, config, response)?.then(replay)
    )
  }

  // a cached Bearer token: axios runs the interceptor without a promise (when all of them are synchronous)
  const hot = (config: Config) => config[STATE] === undefined && protocol.ready()
  const sync = instance.interceptors.request.use(onRequest, null, { synchronous: true, runWhen: hot })
  const waits = instance.interceptors.request.use(onRequest, null, { runWhen: (config) => !hot(config) })
  const responses = instance.interceptors.response.use(
    (response) => settle(response)?.then((replayed) => replayed ?? response) ?? response,
    async (error: AxiosError) => {
      const replayed = error?.isAxiosError === true && (await settle(error.response))
      if (replayed) return replayed
      throw protocol.scrub(error)
    },
  )
  return function eject() {
    for (const id of [sync, waits]) instance.interceptors.request.eject(id)
    instance.interceptors.response.eject(responses)
  }
}
