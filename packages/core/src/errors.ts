/** Stable codes callers branch on; messages are for people and may change. */
export type TokenwellErrorCode =
  | 'ERR_OAUTH'
  | 'ERR_TOKEN_RESPONSE'
  | 'ERR_TOKEN_REQUEST'
  | 'ERR_CONFIG'
  | 'ERR_STORE'
  | 'ERR_DISCOVERY'
  | 'ERR_DPOP'
  | 'ERR_AUTHORIZATION'
  | 'ERR_INSECURE_HTTP'
  | 'ERR_STEP_UP'

const CODES: ReadonlySet<string> = new Set<TokenwellErrorCode>([
  'ERR_OAUTH',
  'ERR_TOKEN_RESPONSE',
  'ERR_TOKEN_REQUEST',
  'ERR_CONFIG',
  'ERR_STORE',
  'ERR_DISCOVERY',
  'ERR_DPOP',
  'ERR_AUTHORIZATION',
  'ERR_INSECURE_HTTP',
  'ERR_STEP_UP',
])

/**
 * Base class of every error tokenwell throws. Branch on `code`, never on `message`. Each class
 * spells its `name` out: a minifier renames classes, so `new.target.name` would say `a` in a
 * bundle (it stays the fallback for subclasses outside core).
 */
export class TokenwellError extends Error {
  readonly code: TokenwellErrorCode
  constructor(message: string, code: TokenwellErrorCode, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

// The optional fields of each class are class fields: an error has them as own properties
// whether or not they were given (`undefined` then), so the constructors assign them as they come.

/** Attach the HTTP response without making it enumerable (it never shows in logs or JSON). */
function attachResponse(error: Error, response: Response | undefined): void {
  if (response) Object.defineProperty(error, 'response', { value: response, enumerable: false })
}

/**
 * The token endpoint (or the device authorization endpoint, `endpoint` says which) answered
 * with an OAuth error body.
 * @see RFC 6749 §5.2, RFC 8628 §3.2
 */
export class OAuthError extends TokenwellError {
  override name = 'OAuthError'
  declare readonly response?: Response
  readonly error: string
  readonly status: number
  readonly errorDescription?: string | undefined
  readonly errorUri?: string | undefined
  constructor(
    error: string,
    status: number,
    details: { errorDescription?: string; errorUri?: string; response?: Response; endpoint?: string } = {},
  ) {
    super(`${details.endpoint ?? 'token endpoint'} returned "${error}" (HTTP ${status})`, 'ERR_OAUTH')
    this.error = error
    this.status = status
    this.errorDescription = details.errorDescription
    this.errorUri = details.errorUri
    attachResponse(this, details.response)
  }
}

/**
 * The token endpoint answered with something that is not a valid token response: not JSON,
 * an HTML error page, no `access_token`, a bad `expires_in`, an unsupported `token_type`. The
 * same for a device authorization response without `device_code`, `user_code`, … .
 * @see RFC 6749 §5.1, RFC 8628 §3.2
 */
export class TokenResponseError extends TokenwellError {
  override name = 'TokenResponseError'
  declare readonly response?: Response
  /** HTTP status of the response, when there was one. */
  readonly status?: number | undefined
  constructor(message: string, details: { status?: number; response?: Response; cause?: unknown } = {}) {
    super(message, 'ERR_TOKEN_RESPONSE', { cause: details.cause })
    this.status = details.status
    attachResponse(this, details.response)
  }
}

/** The token request could not be completed: network failure, timeout or abort. `cause` holds why. */
export class TokenRequestError extends TokenwellError {
  override name = 'TokenRequestError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_TOKEN_REQUEST', options)
  }
}

/** An option passed to a tokenwell factory is invalid; the message names the option. */
export class ConfigError extends TokenwellError {
  override name = 'ConfigError'
  constructor(message: string) {
    super(message, 'ERR_CONFIG')
  }
}

/**
 * Authorization server metadata could not be used: the discovery document could not be fetched,
 * is not JSON, lacks `token_endpoint`, or names another `issuer` than the one configured (a
 * mismatch means the document may be an impostor's, so nothing in it is used).
 * @see RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3
 */
export class DiscoveryError extends TokenwellError {
  override name = 'DiscoveryError'
  declare readonly response?: Response
  /** HTTP status of the metadata response, when there was one. */
  readonly status?: number | undefined
  constructor(message: string, details: { status?: number; response?: Response; cause?: unknown } = {}) {
    super(message, 'ERR_DISCOVERY', { cause: details.cause })
    this.status = details.status
    attachResponse(this, details.response)
  }
}

/**
 * DPoP failed: the token endpoint demanded a nonce again after one retry with the nonce it
 * sent (tokenwell never loops), a proof could not be built with the configured key, or an
 * adapter got a DPoP-bound token from a provider without a DPoP key. (A resource server's
 * second nonce demand is no error: adapters return that 401 as they return any second 401.)
 * @see RFC 9449 §8
 */
export class DpopError extends TokenwellError {
  override name = 'DpopError'
  declare readonly response?: Response
  constructor(message: string, details: { response?: Response; cause?: unknown } = {}) {
    super(message, 'ERR_DPOP', { cause: details.cause })
    attachResponse(this, details.response)
  }
}

/**
 * The authorization-code or device flow cannot go on: the authorization response carries an
 * error (`error` holds it, e.g. `access_denied`), its `state` or `iss` does not match the
 * request, it has no `code`; the user denied a device authorization (`access_denied`) or it
 * expired (`expired_token`); or the code was already exchanged and no refresh token is left
 * (log in again).
 * @see RFC 6749 §4.1.2, RFC 9207, RFC 8628 §3.5
 */
export class AuthorizationError extends TokenwellError {
  override name = 'AuthorizationError'
  /** The authorization server's `error` parameter, when it sent one. */
  readonly error?: string | undefined
  readonly errorDescription?: string | undefined
  constructor(message: string, details: { error?: string; errorDescription?: string; cause?: unknown } = {}) {
    super(message, 'ERR_AUTHORIZATION', details.cause === undefined ? undefined : { cause: details.cause })
    this.error = details.error
    this.errorDescription = details.errorDescription
  }
}

/**
 * An adapter refused to put a token on a plain `http:` request to a host that is not loopback:
 * anyone on the path could read and replay it. Use https, or opt in with `allowInsecureHttp`.
 * The message names the origin only (never a path, query or credentials).
 * @see RFC 6750 §5.3 (always use TLS)
 */
export class InsecureHttpError extends TokenwellError {
  override name = 'InsecureHttpError'
  /** The origin the request was for, e.g. `http://api.example.com`. */
  readonly origin: string
  constructor(origin: string) {
    super(
      `refusing to send a token over plain http to ${origin}: use https, or set allowInsecureHttp: true`,
      'ERR_INSECURE_HTTP',
    )
    this.origin = origin
  }
}

/**
 * The resource server asks for a stronger or more recent user authentication
 * (`error="insufficient_user_authentication"`): no token this provider can get without the user
 * satisfies it, so an adapter fails the request with this error instead of handing back the
 * response. A user-facing flow starts a new login with `acr_values` / `max_age` set from it.
 * Carries only the challenge's checked parameters (never its description, a header or a token).
 * @see RFC 9470 §3
 */
export class StepUpError extends TokenwellError {
  override name = 'StepUpError'
  /** HTTP status of the challenge (401, or 403). */
  readonly status: number
  /** The challenge's `acr_values`: space-delimited authentication context class references. */
  readonly acrValues?: string | undefined
  /** The challenge's `max_age`: the most seconds since the user last authenticated. */
  readonly maxAge?: number | undefined
  constructor(status: number, details: { acrValues?: string; maxAge?: number } = {}) {
    const wants = [
      details.acrValues !== undefined && `acr_values "${details.acrValues}"`,
      details.maxAge !== undefined && `max_age ${details.maxAge}`,
    ].filter(Boolean)
    super(
      `the resource server requires a new user authentication (HTTP ${status}, insufficient_user_authentication${wants.length > 0 ? `: ${wants.join(', ')}` : ''})`,
      'ERR_STEP_UP',
    )
    this.status = status
    this.acrValues = details.acrValues
    this.maxAge = details.maxAge
  }
}

/**
 * Whether `value` is a tokenwell error. Accepts errors from another installed copy of
 * `@tokenwell/core` too (same name shape and a known code), so two copies agree.
 */
export function isTokenwellError(value: unknown): value is TokenwellError {
  if (value instanceof TokenwellError) return true
  if (!(value instanceof Error)) return false
  const code = (value as { code?: unknown }).code
  return typeof code === 'string' && CODES.has(code) && /Error$/.test(value.name)
}
