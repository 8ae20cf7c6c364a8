import { jwtExpiresAt } from '../provider/expiry.js'
import { printable } from '../redact.js'
import { createToken, type Token, type TokenData } from '../token.js'
import { readJsonObject, responseError } from './endpoint-exchange.js'

/** The token endpoint's JSON response. @see RFC 6749 §5.1 */
export interface TokenEndpointResponse {
  access_token: string
  token_type?: string
  expires_in?: number | string
  scope?: string
  refresh_token?: string
  id_token?: string
  [other: string]: unknown
}

export interface ParseTokenResponseOptions {
  /** Time the response arrived, epoch ms. @default Date.now() */
  now?: number
  /**
   * Time the request was sent, epoch ms: an answer whose `Date` header is behind `now` by no
   * more than the round trip (and the header's whole second) is taken as from a server whose
   * clock agrees with ours, delayed on the way. @default now
   */
  sentAt?: number
  /** Lifetime assumed without `expires_in` or a JWT `exp`, ms. @default 300_000 */
  defaultLifetime?: number
  /** Scope to report when the server does not say (RFC 6749 §5.1: then it granted what was asked). */
  requestedScope?: string | undefined
  /** Largest body read, bytes. @default 262_144 */
  maxBytes?: number
  /** Token types accepted. @default ['Bearer'] */
  tokenTypes?: readonly string[]
}

/**
 * Validates a token endpoint `Response` and returns the `Token`, or throws `OAuthError` for an
 * OAuth error body and `TokenResponseError` for anything else that is not a token response.
 * @see RFC 6749 §5.1, §5.2
 */
export async function parseTokenResponse(
  response: Response,
  options: ParseTokenResponseOptions = {},
): Promise<Token> {
  const body = await readJsonObject(response, options.maxBytes ?? 262_144, 'token', 'access_token')
  const fail = (message: string) => {
    const error = responseError(response)(message)
    // the server did the work: a refresh token it rotated to must not be lost with the answer
    if (response.ok && headerSafe(body.refresh_token)) rotations.set(error, body.refresh_token)
    return error
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') throw fail('has no access_token')
  // rule 6: a token that cannot go into an Authorization header is refused now, not cached
  for (const field of ['access_token', 'token_type'] as const) {
    const value = body[field]
    if (typeof value === 'string' && !HEADER_TOKEN.test(value)) {
      throw fail(
        `has ${field === 'access_token' ? 'an' : 'a'} ${field} that cannot be sent in a header (whitespace, control or non-ASCII characters)`,
      )
    }
  }
  const tokenType = normaliseTokenType(body.token_type, options.tokenTypes ?? ['Bearer'], fail)
  const now = options.now ?? Date.now()
  const roundTrip = Math.max(0, now - (options.sentAt ?? now))
  const expiresAt = expiryOf(body, now, roundTrip, options.defaultLifetime ?? 300_000, response, fail)
  const optionalString = (name: string) => {
    const value = body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'string') throw fail(`has a non-string ${name}`)
    return value
  }
  const scope = optionalString('scope') ?? options.requestedScope
  const refreshToken = optionalString('refresh_token')
  const idToken = optionalString('id_token')
  // createToken leaves out the fields that are undefined
  return createToken({
    accessToken: body.access_token,
    tokenType,
    expiresAt,
    scope,
    refreshToken,
    idToken,
    raw: body,
  } as TokenData)
}

/**
 * What an access token or token type may hold to be sent as `<type> <token>` in a header:
 * visible ASCII only, no whitespace, no control character (RFC 9110 §5.5 field-value, RFC 6750
 * §2.1 b64token, which is stricter; RFC 9449's DPoP tokens use the same header).
 */
const HEADER_TOKEN = /^[\x21-\x7e]+$/

/** Refresh tokens that came in 2xx answers refused as token responses, by the error refusing each. */
const rotations = new WeakMap<Error, string>()

/**
 * The refresh token a 2xx answer carried that `parseTokenResponse` refused with `error` (an
 * unusable access token, token type or lifetime): the server rotated to it, so it is the one to
 * redeem next (rule 4: the one sent is spent). Read it before the error is scrubbed (a copy).
 */
export const rotatedRefreshToken = (error: unknown): string | undefined =>
  error instanceof Error ? rotations.get(error) : undefined

/** Whether `value` can be sent as an access token or token type in a header (see `HEADER_TOKEN`). */
export const headerSafe = (value: unknown): value is string =>
  typeof value === 'string' && HEADER_TOKEN.test(value)

function normaliseTokenType(
  value: unknown,
  accepted: readonly string[],
  fail: (message: string) => Error,
): string {
  // RFC 6749 §5.1 requires token_type, but enough servers omit it that Bearer is assumed
  if (value === undefined) return 'Bearer'
  const match =
    typeof value === 'string' && accepted.find((type) => type.toLowerCase() === value.toLowerCase())
  if (!match) {
    // a hostile object (e.g. a toString that is not a function) must not throw a TypeError here
    const shown = typeof value === 'string' ? value : `(${value === null ? 'null' : typeof value})`
    throw fail(`has unsupported token_type "${printable(shown)}"`)
  }
  return match
}

function expiryOf(
  body: Record<string, unknown>,
  now: number,
  roundTrip: number,
  defaultLifetime: number,
  response: Response,
  fail: (message: string) => Error,
) {
  const raw = body.expires_in
  // anything but a number of seconds is broken and must not become NaN or "never"
  const lifetime = raw === undefined || raw === null ? undefined : seconds(raw)
  if (lifetime === undefined && raw !== undefined && raw !== null)
    throw fail('has an invalid expires_in (must be a non-negative number of seconds)')
  const exp = jwtExpiresAt(body.access_token as string)
  const date = Date.parse(response.headers.get('date') ?? '')
  // how far our clock is ahead of the server's by its Date header (NaN without one)
  const skew = now - date
  // within the header's whole-second resolution, and the time the answer may have spent on the
  // way (a slow network, a busy event loop): the server's clock is ours, and what it stamped is
  // when it issued the token, not an answer that arrived that late
  const agrees = skew > -1_000 && skew < 2_000 + roundTrip
  if (lifetime !== undefined) {
    const expiresAt = now + Math.min(lifetime * 1000, MAX_LIFETIME)
    if (!agrees) return expiresAt
    // a JWT's `exp` counts from its whole-second `iat`, before the answer travelled: up to a second
    // earlier than `expires_in` from now, a second a 2 s token cannot lose; `expires_in` counts
    // from the server's Date (issued at most a second after it), not from an answer's late arrival
    const issuedBy = date + 1_000 + Math.min(lifetime * 1000, MAX_LIFETIME)
    return Math.min(expiresAt, issuedBy, exp ?? Number.POSITIVE_INFINITY)
  }
  if (exp === undefined) return now + defaultLifetime
  // `exp` is on the server's clock: shifted by how far ours is off (an answer late on the way
  // is no clock ahead: it is not shifted later for that)
  const shifted = agrees ? Math.min(exp, exp + skew) : Number.isFinite(skew) ? exp + skew : exp
  return Math.min(shifted, now + MAX_LIFETIME)
}

/** A non-negative number of seconds (some servers send a numeric string), or `undefined`. */
export function seconds(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)
        ? Number(value)
        : Number.NaN
  return Number.isFinite(number) && number >= 0 ? number : undefined
}

/**
 * Longest lifetime believed, ms (a year): an absurd `expires_in` such as 1e305 would otherwise
 * overflow to Infinity, i.e. "never expires", and no store or timer could hold it.
 */
const MAX_LIFETIME = 365 * 24 * 3600 * 1000
