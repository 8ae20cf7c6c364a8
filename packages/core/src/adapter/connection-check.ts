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
let watching = false
/**
 * The origins each `Authorization` value was dispatched to without undici creating the request
 * then (a `Pool` queued it, or the dispatcher makes no undici request): checked when one is
 * created later. The oldest values go past `QUEUED_VALUES` (a queued request waits for no token
 * that many renewals old).
 */
const queued = new Map<string, Set<string>>()
const QUEUED_VALUES = 32

/**
 * A `GrantDispatch` that checks the requests undici creates for it (`undici:request:create`
 * through `subscribe`, Node's `diagnostics_channel.subscribe`: published before anything of a
 * request is written): one that carries the grant's `Authorization` but connects elsewhere than
 * the grant's origin fails with `ConfigError` and sends nothing. undici's `Client` and `Pool`
 * connect to their own origin whatever origin a request names, which is all an interceptor reads.
 * A request a `Pool` queues (its `connections` limit) is created later: then it may carry that
 * value only to an origin the value was dispatched to (so the caller's own request with the very
 * value goes elsewhere only while none of ours waits).
 */
export function checkConnections(subscribe: Subscribe): GrantDispatch {
  return (grant, dispatch, opts, handler) =>
    watched(subscribe, grant, () =>
      dispatch({ ...opts, headers: withGrantHeaders(opts.headers as RequestHeaders, grant) }, handler),
    )
}

/**
 * `dispatcher` (undici's, as Node's fetch takes it in `init.dispatcher`) with each `dispatch`
 * checked as `checkConnections` checks an interceptor's: a `Client` or `Pool` bound to another
 * origin than `grant`'s gets no token (fetch fails with a `TypeError` whose `cause` is the
 * `ConfigError`). Outside Node (no `process.getBuiltinModule`), `dispatcher` itself.
 */
export function guardDispatcher<D>(dispatcher: D, grant: Grant): D {
  const subscribe = (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.(
    'node:diagnostics_channel',
  )?.subscribe
  const dispatch = (dispatcher as { dispatch?: unknown } | null)?.dispatch
  if (subscribe === undefined || typeof dispatch !== 'function') return dispatcher
  const checked = (opts: unknown, handler: unknown) =>
    watched(subscribe, grant, () => dispatch.call(dispatcher, opts, handler))
  return Object.create(dispatcher as object, { dispatch: { value: checked } })
}

/** `init` with its `dispatcher` (Node's fetch's, as ky hands it on) guarded for `grant`: see `guardDispatcher`. */
export function guardInit<I extends object | undefined>(init: I, grant: Grant): I {
  const dispatcher = (init as { dispatcher?: unknown } | undefined)?.dispatcher
  return dispatcher === undefined ? init : { ...init, dispatcher: guardDispatcher(dispatcher, grant) }
}

type Subscribe = (name: string, listener: (message: unknown) => void) => void
type NodeProcess = { getBuiltinModule?(id: string): { subscribe?: Subscribe } | undefined }

/** `send()`, checking the requests undici creates meanwhile against `grant`; one it does not create then, when it does. */
function watched<T>(subscribe: Subscribe, grant: Grant, send: () => T): T {
  if (!watching) {
    subscribe('undici:request:create', check)
    watching = true
  }
  const outer = [authorization, origin, created] as const
  authorization = grant.authorization!
  origin = grant.origin
  created = false
  try {
    return send()
  } finally {
    if (!created) awaitCreation(authorization, origin)
    ;[authorization, origin, created] = outer
  }
}

function awaitCreation(value: string, to: string): void {
  const origins = queued.get(value)
  if (origins) return void origins.add(to)
  if (queued.size >= QUEUED_VALUES) queued.delete(queued.keys().next().value!)
  queued.set(value, new Set([to]))
}

function check(message: unknown): void {
  if (authorization === undefined && queued.size === 0) return
  const request = (message as { request?: Created }).request
  const headers = request?.headers
  if (!Array.isArray(headers) || request!.error) return
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1]
    const ours = value === authorization
    const origins = ours || queued.size === 0 ? undefined : queued.get(value as string)
    if ((!ours && origins === undefined) || String(headers[i]).toLowerCase() !== 'authorization') continue
    if (ours) created = true
    const to = connectsTo(request!)
    if (ours ? to !== origin : !origins!.has(to))
      request!.error = new ConfigError(
        `undici connects this request to ${to}, not to ${ours ? origin : 'the origin'} that ` +
          'it names: a Client or Pool connects to its own origin. The token was not sent: compose ' +
          'oauth2() on an Agent, or on a Client or Pool with a match that names its origin alone',
      )
    return
  }
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
