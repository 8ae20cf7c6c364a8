import type { TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  type ClientShape,
  createHookChain,
  createRequestProtocol,
  followedHops,
  followHop,
  type Grant,
  hooksAfter,
  IN_BROWSER,
  keepsGrant,
  pinEnding,
  pinnedMultipartType,
  quietAnswer,
  recordHeader,
  redirectTarget,
  unseenRedirects,
} from '@tokenwell/core/adapter'
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios'

export interface OAuth2InterceptorOptions extends AdapterOptions {}
/** Where a request keeps its grant through axios: a string key (axios < 1.13 drops symbols when it merges configs). */
const STATE = '__tokenwell'
/** Redirects left to follow here (`maxRedirects: 0`): a proof names one URL; axios's fetch tells no hop. */
const HOPS = '__tokenwellHops'
type Config = InternalAxiosRequestConfig & { [STATE]?: Grant; [HOPS]?: number }
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i // axios's own test for an absolute URL (`isAbsoluteURL`)
/** A base URL whose authority a joined relative path cannot change: its origin is the request's. */
const PLAIN_BASE = /^https?:\/\/[\w\-.~%!$&'()*+,;=:@[\]]+(?:[/?#]|$)/i

/**
 * Puts tokens from `provider` on requests made with `instance`, as `@tokenwell/core/adapter` decides
 * (by default only to the origin of the instance's `baseURL`, also when a request sets `baseURL: ''`);
 * a 401 renews the token and replays once through `instance`. Neither errors nor responses hold the
 * token; a retry library that re-sends `error.config` gets it authorized again. Returns `eject()`.
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
      const { url = '', baseURL, socketPath } = config
      if ((socketPath || '') !== (instance.defaults.socketPath || '')) return undefined // another socket's
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
  const hookFor = createHookChain<Parameters<NonNullable<Config['beforeRedirect']>>>((grant, next) =>
    followHop(next, protocol.again(grant, { url: next.href } as Config)),
  )
  function lastWord(this: Config, data: unknown) {
    let grant = this[STATE]
    if (grant && !keepsGrant(shape.url(this, false), grant, this.headers))
      this[STATE] = grant = protocol.again(grant, this) as Grant // sync: a grant of nothing
    if (grant === undefined) return data // below: redirects, by the settings the caller's hooks left
    // a proof names one URL: Node's adapter stops at a redirect, a browser's fetch adapter fails on one
    // (XHR follows every redirect itself, with the proof but never the token: use `adapter: 'fetch'`)
    if (grant.dpop && IN_BROWSER) this.fetchOptions = { ...this.fetchOptions, redirect: 'manual' }
    else if ((grant.dpop || this.adapter === 'fetch') && this.maxRedirects !== 0) {
      this[HOPS] = this.maxRedirects ?? 21 // 21: follow-redirects' default
      this.maxRedirects = 0
    }
    this.beforeRedirect = hookFor(grant, this.beforeRedirect) // ours: follow-redirects spares subdomains
    return data
  }
  function apply(config: Config, grant: Grant | undefined): Config {
    if (grant === undefined) return config
    config[STATE] = grant
    if (grant.authorization === undefined) config.headers.delete(['Authorization', 'DPoP'])
    else config.headers.set('Authorization', grant.authorization)
    pinEnding(config, 'transformRequest', lastWord, hooksAfter(instance.interceptors.request.handlers, sync))
    if (grant.proof !== undefined) config.headers.set('DPoP', grant.proof)
    // axios picks a random multipart boundary on every send: one fixed now makes the replay byte-identical
    const multipart = config.data instanceof FormData && pinnedMultipartType(config.headers.getContentType())
    if (multipart) config.headers.setContentType(multipart)
    return config
  }
  function onRequest(config: Config): Config | Promise<Config> {
    const state = config[STATE]
    const header = state && config.headers.get('Authorization')
    // a replay, a hop, a retry library's error.config keep their grant; one with another Authorization is new
    if (state && header != null && header !== state.authorization) delete config[STATE]
    const grant = config[STATE] ? protocol.again(config[STATE], config) : protocol.begin(config)
    return grant instanceof Promise ? grant.then((g) => apply(config, g)) : apply(config, grant)
  }
  /** Sends `config` again with `changes` and without the headers `drop`, its data as sent (no transform). */
  function resend(config: Config, changes: Partial<Config>, drop: readonly string[]) {
    const headers = config.headers.concat()
    headers.delete([...drop])
    return instance.request({ ...config, ...changes, headers, transformRequest: [] } as Config)
  }
  /** A redirect followed here (see `HOPS`); `undefined` when it is none, or none is left. */
  function follow(config: Config, response: AxiosResponse): Promise<AxiosResponse> | undefined {
    const hops = config[HOPS]
    if (!hops || !config[STATE]) return undefined
    const request = { method: shape.method(config), url: instance.getUri(config) }
    const next = redirectTarget(request, response.status, response.headers.location)
    if (!next) return undefined
    const data = next.keepsBody ? config.data : undefined
    const hop = { url: next.url.href, baseURL: '', params: {}, method: next.method, data, [HOPS]: hops - 1 }
    return resend(config, hop, next.dropsHeaders)
  }
  function settle(response: AxiosResponse | undefined): Promise<AxiosResponse | undefined> | undefined {
    const config = response?.config as Config | undefined
    const grant = config?.[STATE]
    if (!response || !config || grant === undefined) return undefined
    // the old token's Authorization goes: `g` puts its own (it would take the old one for the caller's)
    const replay = (g: Grant | undefined) => g && resend(config, { [STATE]: g }, ['Authorization'])
    return follow(config, response) ?? protocol.onResponse(grant, config, response)?.then(replay)
  }
  // a cached Bearer token: axios runs the interceptor without a promise (when all of them are synchronous)
  const hot = (config: Config) => config[STATE] === undefined && protocol.ready()
  const sync = instance.interceptors.request.use(onRequest, null, { synchronous: true, runWhen: hot })
  const waits = instance.interceptors.request.use(onRequest, null, { runWhen: (config) => !hot(config) })
  const quiet = (r: AxiosResponse) => quietAnswer(r, r.config.headers, r.request, (r.config as Config)[STATE])
  const responses = instance.interceptors.response.use(
    (response) => settle(response)?.then((replayed) => replayed ?? quiet(response)) ?? quiet(response),
    async (error: AxiosError) =>
      (error?.isAxiosError === true && (await settle(error.response))) ||
      Promise.reject(protocol.scrub(error)),
  )
  return function eject() {
    for (const id of [sync, waits]) instance.interceptors.request.eject(id)
    instance.interceptors.response.eject(responses)
  }
}
