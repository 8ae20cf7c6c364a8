import { subscribe } from 'node:diagnostics_channel'
import { ConfigError, type TokenProvider } from '@tokenwell/core'
import {
  type AdapterOptions,
  ChainedSend,
  type ClientShape,
  checkConnections,
  createRequestProtocol,
  DispatchChains,
  hasAuthorization,
  isProviderRequest,
  rawHeader,
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

const originOf = (opts: Opts) => (typeof opts.origin === 'string' ? opts.origin : opts.origin?.origin)
const hrefOf = (opts: Opts) => `${originOf(opts)}${opts.path}`
const signalOf = ({ signal }: Opts) => (signal instanceof AbortSignal ? signal : undefined)
const dispatchWithGrant = checkConnections(subscribe) // a Client or Pool bound elsewhere is refused

/** A response; `history`: the hops an inner redirect handler followed, ending with this response's URL. */
type Reply = { status: number; headers: Headers | Buffer[]; history: readonly (string | URL)[] | undefined }

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
  const own = (opts: Opts) => isProviderRequest(provider, originOf(opts), opts.path)
  const chains = new DispatchChains<Opts, Reply, Handler>(protocol, shape, own) // hops, attempts: one chain
  // a handler given in the older interface comes wrapped by `compose()`, which takes both
  const fail = (handler: Handler, error: unknown, controller: Controller = idle) =>
    handler.onResponseError?.(controller, protocol.scrub(error) as Error)

  return (dispatch) => {
    /** Sends with the grant `step` gives (none: as it is, and so the rest of the chain, as `ChainedSend`). */
    function send(opts: Opts, handler: Handler, step: ReturnType<typeof protocol.begin>): boolean {
      if (step instanceof Promise) {
        // an aborted wait sends as is: the caller's handler aborts it before anything is sent
        step.then(
          (grant) => send(opts, handler, grant),
          (error) => fail(handler, error),
        )
        return true
      }
      const next = new (handler.onHeaders ? Legacy : Current)(chains, opts, handler, step ?? false)
      if (step?.authorization === undefined) return dispatch(opts, next)
      return dispatchWithGrant(step, dispatch, opts, next)
    }

    /** One send, with a token or none (`ChainedSend`), in undici's terms. */
    class Send extends ChainedSend<Opts, Reply, Handler> {
      /** Whether the response goes on to the caller; if not, it is replayed and its body dropped. */
      passes(status: number, headers: Headers | Buffer[], controller?: Controller): boolean {
        const next = this.respond({ status, headers, history: this.history })
        next?.then(
          (renewed) => send(this.request, this.handler, renewed),
          (error) => fail(this.handler, error, controller),
        )
        return next === undefined
      }
      onError(error: Error, controller: Controller = idle) {
        const failure = this.errored(error)
        if (failure) this.handler.onResponseError?.(controller, failure)
      }
    }
    /** A `Send` in undici's older interface (raw headers), for a handler that has it: undici converts none. */
    class Legacy extends Send implements Handler {
      onConnect(abort: (reason?: Error) => void, context?: { history?: readonly URL[] }) {
        const refused = this.started(context?.history)
        if (refused) return abort(refused)
        this.handler.onConnect?.(abort, context)
      }
      onUpgrade(status: number, headers: Buffer[], socket: never) {
        this.handler.onUpgrade?.(status, headers, socket)
      }
      onHeaders(status: number, headers: Buffer[], resume: () => void, message: string) {
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
      onRequestStart(controller: Controller, context: { history?: readonly URL[] }) {
        const refused = this.started(context?.history)
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
    return (opts: Opts, handler: Handler) => send(opts, handler, chains.step(opts, handler))
  }
}

/** For an error before any dispatch: nothing to abort, pause or resume. */
const idle: Controller = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} }
