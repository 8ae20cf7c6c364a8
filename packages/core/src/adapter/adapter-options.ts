import type { RequestMatch } from './match.js'

/** Options every adapter accepts; the protocol applies them. */
export interface AdapterOptions {
  /**
   * Which requests get the token: origin strings, RegExps tested against the request's origin
   * only (never its path or query), predicates on the whole URL; any one matching is enough.
   * @default the origin of the client's base URL when it has one (a request's empty base URL
   *   falls back to the client's), otherwise every request
   */
  match?: RequestMatch
  /** Allow putting the token on plain `http:` to a host that is not loopback. @default false */
  allowInsecureHttp?: boolean
  /**
   * Step up on `insufficient_scope`: a 401 or 403 whose challenge names a `scope` is replayed
   * once with a token for the configured scopes and the challenge's (`getToken({ scope })`), if
   * that asks for more than the token had. Off: such a response goes to the caller.
   * @default false
   * @see RFC 6750 §3.1
   */
  stepUp?: boolean
  /**
   * Answer claims challenges (`error="insufficient_claims"`, `claims="<base64url JSON>"`, as
   * Entra's continuous access evaluation sends them): the request is replayed once with a token
   * asked for with that `claims` parameter (`getToken({ claims })`, never the cached token).
   * Off: such a response goes to the caller.
   * @default true
   */
  claimsChallenges?: boolean
}
