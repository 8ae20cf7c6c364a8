import { DpopError } from '../errors.js'
import { createPendingHops } from './pending-hops.js'
import { redirectTarget } from './redirect.js'
import type { RequestProtocol } from './request-protocol.js'
import type { ClientShape, Grant } from './shape.js'

/** What a chain's sends carry: a grant, or `false` for a chain that went without the token. */
type ChainGrant = Grant | false

/**
 * The request protocol for a client whose interceptors send every redirect hop and retry attempt
 * through the adapter again, each as a new send with a handler (undici's `Dispatcher.compose()`):
 * which chain a send goes on, so that `again`, not `begin`, decides a later send. A handler that
 * sent before goes on in its chain (a retry handler sends each attempt with itself); so does a
 * send of the URL a redirect response leads to, made while that response's end is handed on (an
 * interceptor in between wraps the handler anew for every hop); and so does a send of the URL a
 * redirect that carries no token leads to, soon after (fetch, Node's global one too, follows each
 * hop as a new request of its own: see `createPendingHops`). A chain that went without the token
 * goes on without it: a request elsewhere that redirects into the API gets none, nor does a chain
 * that left the origin and comes back.
 */
export class DispatchChains<R, S, H extends object> {
  readonly #chains = new WeakMap<H, ChainGrant>()
  /** The redirect response whose end is being handed on, and the hop it leads to. */
  #ending: { readonly grant: ChainGrant; readonly to: string } | undefined
  /** Where redirects that carry no token lead: fetch follows one as a new send, that chain's hop all the same. */
  readonly #hops = createPendingHops()

  /** `own`: whether a request is the provider's own (its token or discovery request), sent as it is. */
  constructor(
    readonly protocol: RequestProtocol<R, S>,
    readonly shape: ClientShape<R, S>,
    private readonly own: (request: R) => boolean,
  ) {}

  /**
   * What a send of `request` by `handler` carries: its chain's grant (through `again`), nothing
   * in a chain that went without the token or for the provider's own request, else what `begin`
   * gives, and a rejection for what it throws (`InsecureHttpError`: nothing may be sent). The
   * request's URL is read only while a redirect's end is handed on or a hop is awaited.
   */
  step(request: R, handler: H): ReturnType<RequestProtocol<R, S>['begin']> {
    const ending = this.#ending
    const href = () => String(this.shape.url(request, true))
    const awaited = this.#hops.take(href) // reads the URL only while a hop is awaited
    const known =
      this.#chains.get(handler) ??
      (ending !== undefined && ending.to === href() ? ending.grant : awaited ? false : undefined)
    if (known) return this.protocol.again(known, request)
    if (known === false || this.own(request)) return undefined
    try {
      return this.protocol.begin(request)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Records that `handler` may send again (a retry, a redirect) in the chain of `grant`, and, for
   * a redirect to `to` that carries no token, that a send of `to` soon after is that chain's hop.
   */
  keep(handler: H, grant: ChainGrant, to?: string, sameOrigin?: boolean): void {
    this.#chains.set(handler, grant)
    if (to !== undefined && !(grant && grant.authorization !== undefined && sameOrigin)) this.#hops.expect(to)
  }

  /** Runs `end`, so that a send of `to` from within it goes on in the chain of `grant`. */
  handOn(grant: ChainGrant, to: string | undefined, end: () => void): void {
    const outer = this.#ending
    this.#ending = to === undefined ? undefined : { grant, to }
    try {
      end()
    } finally {
      this.#ending = outer
    }
  }
}

/**
 * One send under `DispatchChains`, of `request` by `handler` with its chain's `grant`: an
 * adapter's handler for it extends this, passes the response's events through it and the rest
 * to `handler`. A response it replays never reaches `handler`.
 */
export class ChainedSend<R, S, H extends object> {
  /** Whether the response is being replayed: nothing more of it goes to `handler`. */
  replaying = false
  /** The hops `started` was given, for the response's `ClientShape.redirects`. */
  history: readonly (string | URL)[] | undefined = undefined
  /** The next hop's origin, path and query, when the response redirects. */
  #to: string | undefined = undefined

  constructor(
    readonly chains: DispatchChains<R, S, H>,
    readonly request: R,
    readonly handler: H,
    readonly grant: ChainGrant,
  ) {}

  /**
   * Takes the hops an interceptor inside the adapter's followed to this send (undici's redirect
   * handler's `history`, ending with this URL) and answers the error to abort it with, when it has
   * any and a DPoP proof: a proof names one URL (and such an interceptor keeps `DPoP` on any origin).
   */
  started(history: readonly (string | URL)[] | undefined): DpopError | undefined {
    this.history = history
    if (!history?.length || !this.grant || this.grant.proof === undefined) return undefined
    return new DpopError(
      'a DPoP request was redirected by an interceptor composed before the adapter: compose it after',
    )
  }

  /**
   * What `response` means (see `RequestProtocol.onResponse`): `undefined` to hand it on, or the
   * replay's grant, and then nothing of it goes on; a rejection with the caller's abort reason
   * once it aborted.
   */
  respond(response: S): Promise<Grant> | undefined {
    const { chains, request, grant } = this
    const status = chains.shape.status(response)
    if (status >= 300) {
      const location = chains.shape.header(response, 'location')
      const url = String(chains.shape.url(request, true))
      const origin = grant ? grant.origin : undefined
      const hop = redirectTarget({ method: chains.shape.method(request), url }, status, location, origin)
      this.#to = hop && `${hop.url.origin}${hop.url.pathname}${hop.url.search}`
      chains.keep(this.handler, grant, this.#to, hop?.sameOrigin)
    }
    const next = grant ? chains.protocol.onResponse(grant, request, response) : undefined
    if (next === undefined) return undefined
    this.replaying = true
    return next.then((renewed) => renewed ?? Promise.reject(chains.shape.signal?.(request)?.reason))
  }

  /** Hands the response's end on (`end`), unless it is replayed. */
  ended(end: () => void): void {
    if (!this.replaying) this.chains.handOn(this.grant, this.#to, end)
  }

  /**
   * The error to hand on for a failed send (`undefined`: none, it is replayed): without any token
   * (`RequestProtocol.scrub`), or as it is for a chain that never carried one.
   */
  errored<E>(error: E): E | undefined {
    if (this.replaying) return undefined
    this.chains.keep(this.handler, this.grant) // a retry handler may send it again
    return this.grant ? this.chains.protocol.scrub(error) : error
  }
}
