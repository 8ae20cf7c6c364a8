import { ConfigError, DpopError, type TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  type ClientShape,
  createPendingHops,
  createRequestProtocol,
  type Grant,
  hasAuthorization,
  isProviderRequest,
  rawHeader,
  redirectTarget,
  withGrantHeaders,
} from '@tokenwell/core/adapter'
import type { Dispatcher } from 'undici'

export interface OAuth2Options extends AdapterOptions {
  /** Which requests get the token. Required: a dispatcher serves every origin and has no base URL. */
  match: NonNullable<AdapterOptions['match']>
}

type Opts = Dispatcher.DispatchOptions & { signal?: unknown }
type Handler = Dispatcher.DispatchHandler & { onConnect?(abort: () => void, context?: unknown): void }
type Controller = Dispatcher.DispatchController
type Headers = Record<string, string | string[] | undefined>
type OptsHeaders = NonNullable<Opts['headers']>
type Raw = Buffer[]
type Context = { history?: readonly URL[] } | undefined

const originOf = (opts: Opts) => (typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin)
const hrefOf = (opts: Opts) => `${originOf(opts)}${opts.path}`
const signalOf = ({ signal }: Opts) => (signal instanceof AbortSignal ? signal : undefined)

/** A response; `history`: the hops an inner redirect handler followed, ending with this response's URL. */
type Reply = { status: number; headers: Headers | Raw; history: readonly URL[] | undefined }

const shape: ClientShape<Opts, Reply> = {
  url: (opts, whole) => (whole ? hrefOf(opts) : originOf(opts)),
  method: (opts) => opts.method,
  base: () => undefined,
  ownCredentials: (opts) => hasAuthorization(opts.headers),
  body: (opts) => opts.body,
  signal: signalOf, // undici.request / stream / pipeline pass their `signal` down to the dispatcher
  status: (res) => res.status,
  header: (res, name) => (Array.isArray(res.headers) ? rawHeader(res.headers, name) : res.headers[name]),
  responseUrl: (res) => res.history?.at(-1),
  redirects: (res) => res.history, // a hop off the origin went without the token: its 401 is not the token's
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
  /**
   * The grant of each chain a redirect or retry handler dispatches again, with itself as handler;
   * `false` for one that went without the token (a redirect from elsewhere to the API gets none).
   */
  const chains = new WeakMap<Handler, Grant | false>()
  /**
   * The redirect whose end is being handed on: undici's redirect handler sends the next hop from
   * there, at once, through whatever is composed between (a retry or decorating interceptor wraps
   * its handler anew for every hop), so a send of its Location now is that chain's next hop.
   */
  let ending: { readonly grant: Grant | false; readonly to: string | undefined } | undefined
  /** Where redirects off the origin lead: fetch follows one as a new request, this chain's hop all the same. */
  const hops = createPendingHops()
  // a handler given in the older interface comes wrapped by `compose()`, which takes both
  const fail = (handler: Handler, error: unknown, controller: Controller = idle) =>
    handler.onResponseError?.(controller, protocol.scrub(error) as Error)

  return (dispatch) => {
    /** Sends with the grant `step` gives (none: as it is, and so the rest of the chain). */
    function send(opts: Opts, handler: Handler, step: ReturnType<typeof protocol.begin>): boolean {
      if (step instanceof Promise) {
        // an aborted wait sends as is: the caller's handler aborts it before anything is sent
        step.then(
          (grant) => send(opts, handler, grant),
          (error) => fail(handler, error),
        )
        return true
      }
      // without a token too, a send watches its chain: a redirect into the API later gets none either
      const grant = step ?? false
      const next = handler.onHeaders ? new Legacy(opts, handler, grant) : new Current(opts, handler, grant)
      if (step?.authorization === undefined) return dispatch(opts, next)
      return dispatch({ ...opts, headers: withGrantHeaders(opts.headers, step) as OptsHeaders }, next)
    }

    /** One send, with a token or none. A 401 it replays never reaches the caller; chain kept on ≥ 300 or error. */
    class Send {
      replaying = false
      /** The Location this response redirects to, as the next hop's origin and path. */
      to: string | undefined = undefined
      history: readonly URL[] | undefined = undefined
      constructor(
        readonly opts: Opts,
        readonly handler: Handler,
        readonly grant: Grant | false,
      ) {}
      /** A hop an inner redirect handler follows carries this proof (undici keeps `dpop` on any origin): refused. */
      started(context: Context): Error | undefined {
        this.history = context?.history
        const hopped = (this.history?.length ?? 0) > 0
        return hopped && this.grant && this.grant.proof !== undefined ? hopError() : undefined
      }
      /** Whether the response goes on to the caller; if not, it is replayed and its body dropped. */
      passes(status: number, headers: Headers | Raw, controller?: Controller): boolean {
        const { opts, handler, grant } = this
        const response = { status, headers, history: this.history }
        if (status >= 300) {
          chains.set(handler, grant)
          const location = shape.header(response, 'location')
          const hop = redirectTarget({ method: opts.method, url: hrefOf(opts) }, status, location)
          this.to = hop && `${hop.url.origin}${hop.url.pathname}${hop.url.search}`
          if (hop && (grant === false || hop.url.origin !== grant.origin || !grant.authorization))
            hops.expect(this.to!)
        }
        const next = grant && protocol.onResponse(grant, opts, response)
        if (!next) return true
        this.replaying = true
        next.then(
          (renewed) =>
            renewed ? send(opts, handler, renewed) : fail(handler, signalOf(opts)?.reason, controller),
          (error) => fail(handler, error, controller),
        )
        return false
      }
      /** Hands the response's end on (`end`), with this chain's grant for a hop it sends from there. */
      ended(end: () => void) {
        if (this.replaying) return
        const outer = ending
        ending = this.to === undefined ? undefined : this
        try {
          end()
        } finally {
          ending = outer
        }
      }
      onError(error: Error, controller?: Controller) {
        if (this.replaying) return
        chains.set(this.handler, this.grant) // a retry handler may send it again
        // a chain that never carried the token has nothing of ours to scrub: its error goes on as it is
        if (this.grant) fail(this.handler, error, controller)
        else this.handler.onResponseError?.(controller ?? idle, error)
      }
    }
    /** A `Send` in undici's older interface (raw headers), for a handler that has it: undici converts none. */
    class Legacy extends Send implements Handler {
      onConnect(abort: (reason?: Error) => void, context?: Context) {
        const refused = this.started(context)
        if (refused) return abort(refused)
        this.handler.onConnect?.(abort, context)
      }
      onUpgrade(status: number, headers: Raw, socket: never) {
        this.handler.onUpgrade?.(status, headers, socket)
      }
      onHeaders(status: number, headers: Raw, resume: () => void, message: string) {
        return (
          !this.passes(status, headers) ||
          this.handler.onHeaders?.(status, headers, resume, message) !== false
        )
      }
      onData(chunk: Buffer) {
        return this.replaying || this.handler.onData?.(chunk) !== false
      }
      onComplete(trailers: string[] | null) {
        this.ended(() => this.handler.onComplete?.(trailers))
      }
    }
    /** A `Send` in undici's handler interface since 7 (a controller, headers as a record). */
    class Current extends Send implements Handler {
      onRequestStart(controller: Controller, context: Context) {
        const refused = this.started(context)
        if (refused) return controller.abort(refused)
        this.handler.onRequestStart?.(controller, context)
      }
      onRequestUpgrade(controller: Controller, status: number, headers: Headers, socket: never) {
        this.handler.onRequestUpgrade?.(controller, status, headers, socket)
      }
      onResponseStart(controller: Controller, status: number, headers: Headers, message?: string) {
        if (this.passes(status, headers, controller))
          this.handler.onResponseStart?.(controller, status, headers, message)
      }
      onResponseData(controller: Controller, chunk: Buffer) {
        if (!this.replaying) this.handler.onResponseData?.(controller, chunk)
      }
      onResponseEnd(controller: Controller, trailers: Headers) {
        this.ended(() => this.handler.onResponseEnd?.(controller, trailers))
      }
      onResponseError(controller: Controller, error: Error) {
        this.onError(error, controller)
      }
    }

    return function oauth2Dispatch(opts: Opts, handler: Handler): boolean {
      // a hop sent from the end of a redirect: its Location read only then (not for every request)
      const hop = hops.take(() => hrefOf(opts)) ? false : undefined
      const known =
        chains.get(handler) ?? (ending !== undefined && ending.to === hrefOf(opts) ? ending.grant : hop)
      if (known) return send(opts, handler, protocol.again(known, opts))
      if (known === false || isProviderRequest(provider, originOf(opts), opts.path))
        return send(opts, handler, undefined)
      try {
        return send(opts, handler, protocol.begin(opts))
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
