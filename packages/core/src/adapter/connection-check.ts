import { ConfigError } from '../errors.js'
import { type RequestHeaders, withGrantHeaders } from './raw-headers.js'
import type { Grant } from './shape.js'

/** What of an undici `Request` the check reads and sets (undici 7: headers as `[name, value, …]`). */
interface Created {
  origin?: unknown
  path?: unknown
  host?: unknown
  headers?: unknown
  error?: Error | null
}

/** `dispatch(opts, handler)` with the headers of `grant` (one that sends a token) added to `opts`. */
export type GrantDispatch = <O extends { headers?: unknown }, H>(
  grant: Grant,
  dispatch: (opts: O, handler: H) => boolean,
  opts: O,
  handler: H,
) => boolean

/** The `Authorization` value being dispatched, and the origin it is for; `undefined` between sends. */
let authorization: string | undefined
let origin = ''
/** Whether undici created the request being dispatched while it dispatched it. */
let created = false
let subscribe: Subscribe | null | undefined // Node's `diagnostics_channel.subscribe` once watching; `null`: none

/**
 * The URLs (origin and path, as undici names them) each `Authorization` value was sent to
 * without undici creating the request then, and how many times: a `Pool` queued it, Node's fetch
 * creates it later, or a dispatcher makes none. Checked, and let go, when one is created. The
 * oldest values go past `MAX_VALUES` (no request waits for a token that many renewals old), and
 * a value's oldest URLs past `MAX_URLS` (sends no undici request was made for: another fetch).
 */
const awaited = new Map<string, Map<string, number>>()
const MAX_VALUES = 32
const MAX_URLS = 64

/**
 * A `GrantDispatch` that checks the requests undici creates for it (`undici:request:create`
 * through `subscribe`, Node's `diagnostics_channel.subscribe`: published before anything of a
 * request is written): one that carries the grant's `Authorization` but connects elsewhere than
 * the grant's origin fails with `ConfigError` and sends nothing. undici's `Client` and `Pool`
 * connect to their own origin whatever origin a request names, which is all an interceptor reads.
 * A request a `Pool` queues (its `connections` limit) is created later: then it is checked as
 * `awaitConnection` checks a fetch's.
 */
export function checkConnections(nodeSubscribe: Subscribe): GrantDispatch {
  return (grant, dispatch, opts, handler) => {
    watch(nodeSubscribe)
    const outer = [authorization, origin, created] as const
    authorization = grant.authorization!
    origin = grant.origin
    created = false
    try {
      return dispatch({ ...opts, headers: withGrantHeaders(opts.headers as RequestHeaders, grant) }, handler)
    } finally {
      const path = (opts as { path?: unknown }).path
      if (!created) awaitCreation(authorization, origin + (typeof path === 'string' ? path : ''))
      ;[authorization, origin, created] = outer
    }
  }
}

/**
 * Makes the request undici (Node's fetch, or the `undici` package's) creates next for a send of
 * `url` with `Authorization: authorization` checked (Node: through `process.getBuiltinModule`):
 * one carrying that value to `url`'s path that connects to another origin fails with
 * `ConfigError` and sends nothing (fetch fails with a `TypeError` whose `cause` it is). That
 * catches what no wrapper sees: an `init.dispatcher`, a `Request`'s own, or the global
 * dispatcher, when it is a `Client` or `Pool` bound elsewhere. Call it right before the send. The
 * caller's own request with that value to another path goes as it is.
 */
export function awaitConnection(authorization: string | null | undefined, url: string): void {
  if (authorization == null || !watch()) return
  const hash = url.indexOf('#')
  awaitCreation(authorization, hash < 0 ? url : url.slice(0, hash))
}

/** `fetch` with each `Request` it sends checked as `awaitConnection` checks a send. */
export const checkedFetch =
  <I>(fetch: (request: Request, init?: I) => Promise<Response>) =>
  (request: Request, init?: I): Promise<Response> => {
    awaitConnection(request.headers.get('authorization'), request.url)
    return fetch(request, init)
  }
type Subscribe = (name: string, listener: (message: unknown) => void) => void
type NodeProcess = { getBuiltinModule?(id: string): { subscribe?: Subscribe } | undefined }

/** Whether created requests are checked: subscribed once, through `given` or Node's own `diagnostics_channel`. */
function watch(given?: Subscribe): boolean {
  if (subscribe) return true
  if (subscribe === null && given === undefined) return false
  subscribe =
    given ??
    (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.('node:diagnostics_channel')
      ?.subscribe ??
    null
  subscribe?.('undici:request:create', check)
  return subscribe !== null
}

/** One more request with `value` for `url` that undici will create. */
function awaitCreation(value: string, url: string): void {
  let urls = awaited.get(value)
  if (urls === undefined) {
    if (awaited.size >= MAX_VALUES) awaited.delete(awaited.keys().next().value!)
    urls = new Map()
    awaited.set(value, urls)
  } else if (urls.size >= MAX_URLS && !urls.has(url)) urls.delete(urls.keys().next().value!)
  urls.set(url, (urls.get(url) ?? 0) + 1)
}

function check(message: unknown): void {
  if (authorization === undefined && awaited.size === 0) return
  const request = (message as { request?: Created }).request
  const headers = request?.headers
  if (!Array.isArray(headers) || request!.error) return
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]
    if (typeof name !== 'string' || name.length !== 13 || name.toLowerCase() !== 'authorization') continue
    const value = headers[i + 1] as string
    if (value === authorization) {
      created = true
      const to = connectsTo(request!)
      if (to !== origin) refuse(request!, to, origin)
      return
    }
    const urls = awaited.get(value)
    if (urls === undefined) return
    const to = connectsTo(request!)
    const sent = typeof request!.path === 'string' && request!.path[0] === '/' ? to + request!.path : ''
    const url = urls.has(sent) ? sent : awaitedUrl(urls, to, pathOf(request!, to))
    if (url === undefined) return // not a request of ours: the caller's own, to another path
    const left = urls.get(url)! - 1 // its wait ends here, whether it goes or not
    if (left > 0) urls.set(url, left)
    else if (urls.delete(url) && urls.size === 0) awaited.delete(value)
    const named = url === sent ? to : new URL(url).origin
    if (named !== to) refuse(request!, to, named)
    return
  }
}

/**
 * The key of `urls` a request connecting to `to` with `path` (as `pathOf` reads it) was sent as,
 * when it is not the URL the request names: one naming `to` and that path as the caller wrote it,
 * else one naming that path elsewhere.
 */
function awaitedUrl(urls: Map<string, number>, to: string, path: string): string | undefined {
  let elsewhere: string | undefined
  for (const url of urls.keys()) {
    // a URL as the caller wrote it (`/a/../b`, `?`, unescaped): read as a URL parser reads it
    const parsed = URL.canParse(url) ? new URL(url) : undefined
    if (parsed === undefined || parsed.pathname + parsed.search !== path) continue
    if (parsed.origin === to) return url
    elsewhere = url
  }
  return elsewhere
}

function refuse(request: Created, to: string, named: string): void {
  request.error = new ConfigError(
    `undici connects this request to ${to}, not to ${named} that it names: a Client or Pool ` +
      'connects to its own origin. The token was not sent: send it through an Agent, or through a ' +
      'Client or Pool of its own origin (composed with oauth2(): a match that names that origin alone)',
  )
}

/**
 * The path and query a request to `to` names (of the whole URL it names, as a forward proxy is
 * sent) as a URL parser reads them: fetches of one URL name it in more than one way (Node 24's
 * fetch sends an empty query as `/?`, Node 20's as `/`).
 */
function pathOf({ path }: Created, to: string): string {
  const url = typeof path === 'string' && path[0] === '/' ? to + path : String(path)
  if (!URL.canParse(url)) return String(path)
  const parsed = new URL(url)
  return parsed.pathname + parsed.search
}

/**
 * The origin a request goes to: the one undici connects to, unless the request names its own (a
 * whole URL as its path, as a forward proxy is sent; a `Host` header, as `interceptors.dns()` sets
 * when it connects to an address).
 */
function connectsTo({ origin, path, host }: Created): string {
  if (typeof origin === 'string' && host == null && typeof path === 'string' && path[0] === '/') return origin
  const named =
    typeof path === 'string' && !path.startsWith('/')
      ? path
      : typeof host === 'string' && typeof origin === 'string'
        ? `${origin.slice(0, origin.indexOf('//'))}//${host}`
        : origin
  return typeof named === 'string' && URL.canParse(named) ? new URL(named).origin : String(origin)
}
