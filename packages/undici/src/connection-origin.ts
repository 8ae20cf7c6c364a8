import { subscribe } from 'node:diagnostics_channel'
import { ConfigError } from '@tokenwell/core'

/** What of an undici `Request` the check reads and sets (undici 7: headers as `[name, value, …]`). */
interface Created {
  origin?: unknown
  path?: unknown
  host?: unknown
  headers?: unknown
  error?: Error | null
}

/** The `Authorization` value being dispatched, and the origin it is for; `undefined` between sends. */
let authorization: string | undefined
let origin = ''
let watching = false

/**
 * `dispatch(opts, handler)` for a request that carries `value` for `to`, checking the requests undici
 * creates meanwhile (`undici:request:create`, before anything of one is written): one that carries
 * `value` but connects elsewhere fails with `ConfigError` and sends nothing. A `Client` or `Pool`
 * connects to its own origin whatever origin the request names, which is all the interceptor
 * reads. Only a request created while this dispatch runs is checked: a `Pool` with a `connections`
 * limit that queues it creates it later, unchecked.
 */
export function dispatchChecked<O, H>(
  value: string,
  to: string,
  dispatch: (opts: O, handler: H) => boolean,
  opts: O,
  handler: H,
): boolean {
  if (!watching) {
    subscribe('undici:request:create', check)
    watching = true
  }
  const outerValue = authorization
  const outerOrigin = origin
  authorization = value
  origin = to
  try {
    return dispatch(opts, handler)
  } finally {
    authorization = outerValue
    origin = outerOrigin
  }
}

function check(message: unknown): void {
  if (authorization === undefined) return
  const request = (message as { request?: Created }).request
  const headers = request?.headers
  if (!Array.isArray(headers) || request!.error) return
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i + 1] !== authorization || String(headers[i]).toLowerCase() !== 'authorization') continue
    const to = connectsTo(request!)
    if (to !== origin)
      request!.error = new ConfigError(
        `undici connects this request to ${to}, not to ${origin} that it names: a Client or Pool connects ` +
          'to its own origin. The token was not sent: compose oauth2() on an Agent, or on a Client or Pool ' +
          'with a match that names its origin alone',
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
