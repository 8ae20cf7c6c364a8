import { ConfigError, DpopError, type TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  type ClientShape,
  createRequestProtocol,
  type Grant,
  isProviderRequest,
} from '@tokenwell/core/adapter'
import type { Dispatcher } from 'undici'

export interface OAuth2Options extends AdapterOptions {
  /** Which requests get the token. Required: a dispatcher serves every origin and has no base URL. */
  match: NonNullable<AdapterOptions['match']>
}

type Opts = Dispatcher.DispatchOptions & { signal?: unknown }
type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>
type OptsHeaders = NonNullable<Opts['headers']>

const originOf = (opts: Opts) => (typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin)
const signalOf = ({ signal }: Opts) => (signal instanceof AbortSignal ? signal : undefined)

const shape: ClientShape<Opts, { status: number; headers: Headers; url: URL | undefined }> = {
  url: (opts, whole) => (whole ? `${originOf(opts)}${opts.path}` : originOf(opts)),
  method: (opts) => opts.method,
  base: () => undefined,
  ownCredentials: (opts) => opts.headers != null && hasAuthorization(opts.headers),
  body: (opts) => opts.body,
  signal: signalOf, // undici.request / stream / pipeline pass their `signal` down to the dispatcher
  status: (res) => res.status,
  header: (res, name) => res.headers[name],
  responseUrl: (res) => res.url,
}

/**
 * An undici interceptor (for `Dispatcher.compose()`) that puts the token from `provider` on the
 * requests `match` allows (required) and dispatches a request once more after a 401, by the rules
 * of `@tokenwell/core/adapter`. The provider's own token and discovery requests pass untouched.
 * Hops and attempts of undici's redirect and retry handlers come back through it: the token never
 * returns to a chain that left its origin. Byte bodies are sent again; streams once.
 * @example setGlobalDispatcher(new Agent().compose(oauth2(provider, { match: 'https://api.example.com' })))
 * @see RFC 6750 §2.1, §3.1; RFC 9449 §7
 */
export function oauth2(provider: TokenProvider, options: OAuth2Options): Dispatcher.DispatchInterceptor {
  if (options?.match === undefined) throw new ConfigError('match is required: a dispatcher has no base URL')
  const protocol = createRequestProtocol(provider, options, shape)
  /** The grant of each chain a redirect or retry handler dispatches again, with itself as handler. */
  const chains = new WeakMap<Handler, Grant>()
  const fail = (handler: Handler, error: unknown, controller: Controller = idle) =>
    handler.onResponseError?.(controller, protocol.scrub(error) as Error)

  return (dispatch) => {
    function send(opts: Opts, handler: Handler, grant: Grant): boolean {
      const next = grant.authorization === undefined ? undefined : new Send(opts, handler, grant)
      if (next) return dispatch({ ...opts, headers: withHeaders(opts.headers, grant) }, next)
      chains.set(handler, grant) // no `Send` sees this chain's later hops: they stay without token
      return dispatch(opts, handler)
    }
    function settle(opts: Opts, handler: Handler, pending: ReturnType<typeof protocol.begin>): boolean {
      if (pending === undefined) return dispatch(opts, handler)
      if (!(pending instanceof Promise)) return send(opts, handler, pending)
      // an aborted wait dispatches as is: the caller's handler aborts it before anything is sent
      pending.then(
        (g) => (g ? send(opts, handler, g) : dispatch(opts, handler)),
        (e) => fail(handler, e),
      )
      return true
    }

    /** One send with a token. A 401 it replays never reaches the caller; chain kept on ≥ 300 or error. */
    class Send implements Handler {
      replaying = false
      history: readonly URL[] | undefined = undefined
      constructor(
        readonly opts: Opts,
        readonly handler: Handler,
        readonly grant: Grant,
      ) {}
      onRequestStart(controller: Controller, context: { history?: readonly URL[] }) {
        this.history = context?.history // an inner redirect handler's: it ends with this response's URL
        // a hop an inner redirect handler follows carries this proof (undici keeps `dpop` on any origin)
        if (this.grant.proof !== undefined && (this.history?.length ?? 0) > 0)
          return controller.abort(hopError())
        this.handler.onRequestStart?.(controller, context)
      }
      onRequestUpgrade(controller: Controller, status: number, headers: Headers, socket: never) {
        this.handler.onRequestUpgrade?.(controller, status, headers, socket)
      }
      onResponseStart(controller: Controller, status: number, headers: Headers, message?: string) {
        const { opts, handler, grant } = this
        if (status >= 300) chains.set(handler, grant)
        const next = protocol.onResponse(grant, opts, { status, headers, url: this.history?.at(-1) })
        if (next === undefined) return handler.onResponseStart?.(controller, status, headers, message)
        this.replaying = true // the 401's body is dropped as it arrives
        next.then(
          (renewed) =>
            renewed ? send(opts, handler, renewed) : fail(handler, signalOf(opts)?.reason, controller),
          (error) => fail(handler, error, controller),
        )
      }
      onResponseData(controller: Controller, chunk: Buffer) {
        if (!this.replaying) this.handler.onResponseData?.(controller, chunk)
      }
      onResponseEnd(controller: Controller, trailers: Headers) {
        if (!this.replaying) this.handler.onResponseEnd?.(controller, trailers)
      }
      onResponseError(controller: Controller, error: Error) {
        if (this.replaying) return
        chains.set(this.handler, this.grant) // a retry handler may send it again
        fail(this.handler, error, controller)
      }
    }

    return function oauth2Dispatch(opts: Opts, handler: Handler): boolean {
      const known = chains.get(handler)
      if (known) return settle(opts, handler, protocol.again(known, opts))
      if (isProviderRequest(provider, originOf(opts), opts.path)) return dispatch(opts, handler)
      try {
        return settle(opts, handler, protocol.begin(opts))
      } catch (error) {
        fail(handler, error) // InsecureHttpError: nothing was sent
        return true
      }
    }
  }
}

/** A DPoP proof names one URL: a redirect followed inside `oauth2()` cannot be proved, nor sent elsewhere. */
const hopError = () =>
  new DpopError('a DPoP request was redirected by an interceptor composed before oauth2(): compose it after')

/** For an error before any dispatch: nothing to abort, pause or resume. */
const idle: Controller = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} }

/** undici headers as a flat `[name, value, …]` list (the only array form it takes), or the record. */
function listOf(headers: OptsHeaders): unknown[] | Headers {
  if (Array.isArray(headers) || !(Symbol.iterator in headers)) return headers
  return [...(headers as Iterable<[]>)].flat()
}

const NONE: unknown[] = []
const isAuthorization = (name: unknown) => String(name).toLowerCase() === 'authorization'
function hasAuthorization(headers: OptsHeaders): boolean {
  const list = listOf(headers)
  if (!Array.isArray(list)) return Object.keys(list).some(isAuthorization)
  return list.some((name, i) => i % 2 === 0 && isAuthorization(name))
}

/** The caller's headers plus `authorization` (and `dpop`), in the caller's form; theirs never change. */
function withHeaders(headers: Opts['headers'], { authorization, proof }: Grant): OptsHeaders {
  const list = headers ? listOf(headers) : undefined
  const dpop = proof === undefined ? NONE : ['dpop', proof]
  if (Array.isArray(list)) return [...list, 'authorization', authorization, ...dpop] as string[]
  return proof === undefined ? { ...list, authorization } : { ...list, authorization, dpop: proof }
}
