import type { TokenProvider } from '../provider/token-provider.js'
import type { Grant } from './shape.js'

/**
 * The whole per-request protocol, for one client. An adapter calls `begin` before a request is
 * sent, `again` before any later send of it (a retry, a redirect hop), `onResponse` when a
 * response arrives and `scrub` on an error it hands back; it stores the `Grant` with the request
 * and translates the grant's headers onto it. Nothing else is the adapter's to decide.
 */
export interface RequestProtocol<R, S> {
  readonly provider: TokenProvider
  /**
   * Whether `begin` answers synchronously for every request right now (a cached, fresh Bearer
   * token): a client with synchronous hooks (axios `synchronous: true`) may use them then.
   */
  ready(): boolean
  /**
   * The grant for a new request, or `undefined` when it goes as it is: out of `match` (by default
   * another origin than the client's base URL), or carrying the caller's own credentials (an
   * `Authorization` header, client-level auth, userinfo in the URL); so does every later send of
   * it (a retry, a redirect hop back to the API: the adapter remembers this answer for the chain,
   * as it does a grant). A `Grant`, synchronously,
   * for a cached Bearer token: no promise, no URL parsing for an origin seen before, nothing
   * allocated. A promise when it must wait for the token (bounded by the request's signal and
   * timeout; `undefined` once the signal aborted) or sign a DPoP proof. Throws
   * `InsecureHttpError` for plain http to a host that is not loopback, before any token request.
   */
  begin(request: R): Grant | Promise<Grant | undefined> | undefined
  /**
   * The grant for another send of a request that had `grant` (got's retries and redirects, a
   * redirect hop an adapter follows): the same one to the same origin (a new DPoP proof for
   * this method and URL); one that carries nothing to another origin, and from then on for the
   * rest of the chain, even back on the first origin.
   */
  again(grant: Grant, request: R): Grant | Promise<Grant>
  /**
   * What a response to a request sent with `grant` means: `undefined` to hand it to the caller
   * (synchronously whenever it neither replays nor fails), or the grant to replay the request
   * with: a renewed token after a 401 (one token request however many 401s carried the same
   * stale token), the same token and a proof with the nonce a DPoP 401 demanded, a token with
   * the claims of a claims challenge, or (with `stepUp`) one for the scope `insufficient_scope`
   * names. Once per request, whatever the cause: a replayed grant never replays, nor does a body
   * that cannot be sent twice, a response from another origin, or a request whose signal
   * aborted. Rejects with `StepUpError` for an `insufficient_user_authentication` challenge.
   * @see RFC 6750 §3.1, RFC 9449 §8.2, §9, RFC 9470 §3
   */
  onResponse(grant: Grant, request: R, response: S): Promise<Grant | undefined> | undefined
  /**
   * `error` without any token this protocol handed out, anywhere in it (see `scrubSecrets`); `sent`,
   * the grant the request went with last: its proof also in the forms an API echoes it in, when the
   * error no longer holds it as sent (a copy of the request made without it).
   */
  scrub<E>(error: E, sent?: Grant): E
}

/** A `RequestProtocol` without `scrub`: see `createProtocolWithoutScrub`. */
export type ProtocolWithoutScrub<R, S> = Omit<RequestProtocol<R, S>, 'scrub'> & {
  /** `error` and its causes without any token or proof this protocol handed out in their strings (see `scrubCauses`). */
  scrubCauses<E>(error: E): E
}
