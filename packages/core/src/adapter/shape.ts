import type { CallParams } from '../provider/call-tokens.js'
import { inspectSymbol } from '../redact.js'
import type { Token } from '../token.js'
import type { HeaderValue } from './www-authenticate.js'

/**
 * How to read one client's requests (`R`) and responses (`S`): the whole of what an adapter
 * tells the protocol. Each accessor is called only when the protocol needs it, so an adapter
 * passes its client's own objects and allocates nothing.
 */
export interface ClientShape<R, S> {
  /**
   * The request's absolute URL. With `whole` false only its origin is read: a client that
   * joins a relative path to its base URL may return the base URL itself, when the join cannot
   * change the origin. `undefined`: no usable URL (the request goes as it is).
   */
  url(request: R, whole: boolean): string | URL | undefined
  /** The HTTP method, any case. */
  method(request: R): string
  /** The request's own base URL (axios `baseURL`, got `prefixUrl`); `''` or none: the client's. */
  base(request: R): string | URL | undefined
  /**
   * The base URL the client was made with, for a request whose own base URL is empty. `null`:
   * not known (ky's hooks never see an instance's): without a `match`, a `ConfigError`, unsent.
   */
  defaultBase?(request: R): string | URL | undefined | null
  /**
   * Whether the request carries the caller's own credentials: an `Authorization` header set
   * by the caller, or client-level auth (axios `auth`, got `username`/`password`). Userinfo in
   * the URL the protocol sees itself. Such a request gets no token and no proof.
   */
  ownCredentials(request: R): boolean
  /** The request body as the client will send it, to judge whether it can be sent twice. */
  body?(request: R): unknown
  /** The caller's signal: it ends the request's wait for a token (never the token request). */
  signal?(request: R): AbortSignal | undefined
  /** The client's request timeout, ms; `0` or none: unbounded. Bounds the wait for a token. */
  timeout?(request: R): number | undefined
  /** The response's status. */
  status(response: S): number
  /** One response header by lower-case name. */
  header(response: S, name: string): HeaderValue
  /** The URL the response came from, when the client followed redirects itself. @default the request's */
  responseUrl?(response: S): string | URL | undefined
  /**
   * The URLs the response's redirect chain went through, when the client followed it without
   * the protocol's `again` deciding each hop's grant (axios's follow-redirects): a hop to another
   * origin means the last one carried no token, so its 401 is not the token's. `null`: it followed
   * redirects it does not tell (a platform fetch's `redirected`). @default every hop came through `again`
   */
  redirects?(response: S): readonly (string | URL)[] | null | undefined
}

/**
 * What one send of a request carries: an adapter sets `authorization` (and `dpop` from `proof`)
 * when defined, and removes the ones it set before when not. Immutable; the protocol hands a
 * new one for each change, and reuses one across requests for a cached Bearer token.
 */
export interface Grant {
  readonly token: Token
  /** The origin the token may go to: the first request's. */
  readonly origin: string
  /** `Authorization` value; `undefined` once the request (or its redirect chain) left the origin. */
  readonly authorization: string | undefined
  /** `DPoP` proof for this send alone (RFC 9449 §4). */
  readonly proof: string | undefined
  /** Whether the token is DPoP-bound: every send needs a new proof, so redirects are re-proved. */
  readonly dpop: boolean
  /** Whether this is the request's one replay: its response goes to the caller, whatever it is. */
  readonly replayed: boolean
  /** The per-call scope and claims the token was asked for (a step-up or claims challenge's). */
  readonly call?: CallParams
}

/** A frozen `Grant` that prints and serializes without its token, header or proof. */
class PrintedGrant implements Grant {
  declare readonly token: Token
  declare readonly origin: string
  declare readonly authorization: string | undefined
  declare readonly proof: string | undefined
  declare readonly dpop: boolean
  declare readonly replayed: boolean
  declare readonly call?: CallParams

  constructor(fields: Grant) {
    Object.assign(this, fields)
    Object.freeze(this)
  }

  toJSON(): Record<string, unknown> {
    return { origin: this.origin, dpop: this.dpop, replayed: this.replayed }
  }

  [inspectSymbol](): string {
    const sends = this.authorization === undefined ? 'nothing' : this.dpop ? 'DPoP + proof' : 'Bearer'
    return `Grant { origin: '${this.origin}', sends: ${sends}, replayed: ${this.replayed} }`
  }
}

/** Makes a `Grant`: frozen (nothing can scrub or change it), printed without secrets. */
export function createGrant(fields: Grant): Grant {
  return new PrintedGrant(fields)
}
