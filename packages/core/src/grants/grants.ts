/** A value, or a function that produces it (called for every token request, e.g. to read a fresh assertion). */
export type ValueOrProvider = string | (() => string | Promise<string>)

/** @see RFC 6749 §4.4 */
export interface ClientCredentialsGrant {
  type: 'client_credentials'
}
/** @see RFC 6749 §4.3 */
export interface PasswordGrant {
  type: 'password'
  username: string
  password: string
}
/** A refresh token you already hold; rotated refresh tokens replace it. @see RFC 6749 §6 */
export interface RefreshTokenGrant {
  type: 'refresh_token'
  refreshToken: string
}
/** Exchanged once for tokens, then kept alive with the refresh token. @see RFC 6749 §4.1.3, RFC 7636 §4.5 */
export interface AuthorizationCodeGrant {
  type: 'authorization_code'
  code: string
  redirectUri: string
  codeVerifier?: string
}
/** @see RFC 7523 §2.1 */
export interface JwtBearerGrant {
  type: 'urn:ietf:params:oauth:grant-type:jwt-bearer'
  assertion: ValueOrProvider
}
/** @see RFC 8693 §2.1 */
export interface TokenExchangeGrant {
  type: 'urn:ietf:params:oauth:grant-type:token-exchange'
  subjectToken: ValueOrProvider
  /** @default 'urn:ietf:params:oauth:token-type:access_token' */
  subjectTokenType?: string
  actorToken?: ValueOrProvider
  actorTokenType?: string
  requestedTokenType?: string
}

/**
 * Polls the token endpoint with a device code: `send()`, then again `interval` ms after each
 * answer, until it yields a token. `onAnswer` hears of each `authorization_pending` or `slow_down` (the server is up, so
 * a later network failure may be retried afresh); `stop` ends the wait between two polls.
 */
export type DevicePoll = <T>(send: () => Promise<T>, onAnswer: () => void, stop: AbortSignal) => Promise<T>

/** The poll loop of a device code grant (see `deviceCodeGrant()`). */
export type DevicePoller = (grant: DeviceCodeGrant & { interval: number }, clock: () => number) => DevicePoll

/**
 * The device code of a device authorization (`startDeviceAuthorization()`): the first
 * `getToken()` polls the token endpoint every `interval` ms until the user approves, then the
 * code is exchanged once and the token kept alive with the refresh token, as after an
 * authorization code. Made by `deviceCodeGrant(authorization)` from `@tokenwell/core/device`,
 * which brings the poll loop (a provider without it bundles none of it).
 * @see RFC 8628 §3.4, §3.5
 */
export interface DeviceCodeGrant {
  type: 'urn:ietf:params:oauth:grant-type:device_code'
  deviceCode: string
  /** Wait between two polls, ms; a `slow_down` answer adds 5 s. @default 5_000 */
  interval?: number
  /** When the device code expires, epoch ms: no poll starts after it. @default no limit but the server's `expired_token` */
  expiresAt?: number
  /** The poll loop, from `deviceCodeGrant()`. */
  poller: DevicePoller
}

/** Poll interval when the server names none, ms. @see RFC 8628 §3.2 (`interval`, default 5 s) */
export const DEFAULT_DEVICE_INTERVAL = 5_000

export type Grant =
  | ClientCredentialsGrant
  | PasswordGrant
  | RefreshTokenGrant
  | AuthorizationCodeGrant
  | JwtBearerGrant
  | TokenExchangeGrant
  | DeviceCodeGrant

export type GrantType = Grant['type']

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/**
 * Per grant type, in body order, each form parameter it sends and the grant field it comes
 * from; the first field is the one the grant type needs (RFC 6749 §4.1.3, §4.3.2, §6, RFC 7523
 * §2.1, RFC 8693 §2.1, RFC 8628 §3.4).
 */
export const GRANT_PARAMS: Readonly<Record<GrantType, Readonly<Record<string, string>>>> = {
  client_credentials: {},
  password: { username: 'username', password: 'password' },
  refresh_token: { refresh_token: 'refreshToken' },
  authorization_code: { code: 'code', redirect_uri: 'redirectUri', code_verifier: 'codeVerifier' },
  'urn:ietf:params:oauth:grant-type:jwt-bearer': { assertion: 'assertion' },
  'urn:ietf:params:oauth:grant-type:token-exchange': {
    subject_token: 'subjectToken',
    subject_token_type: 'subjectTokenType',
    actor_token: 'actorToken',
    actor_token_type: 'actorTokenType',
    requested_token_type: 'requestedTokenType',
  },
  'urn:ietf:params:oauth:grant-type:device_code': { device_code: 'deviceCode' },
}

export const GRANT_TYPES = Object.keys(GRANT_PARAMS) as readonly GrantType[]

/**
 * The form parameters of a grant (without client authentication, scope or extras).
 * `refreshToken` is the newest refresh token the provider holds; it wins over the grant's own.
 * A field that is a function (a JWT bearer assertion, a subject or actor token) is called.
 */
export async function grantParams(
  grant: Grant,
  refreshToken: string | undefined,
): Promise<Record<string, string>> {
  if (refreshToken !== undefined) return { grant_type: 'refresh_token', refresh_token: refreshToken }
  const fields = grant as unknown as Record<string, ValueOrProvider | undefined>
  const params: Record<string, string> = { grant_type: grant.type }
  for (const [param, field] of Object.entries(GRANT_PARAMS[grant.type])) {
    // RFC 8693 §2.1: a token type is required with its token; tokenwell's default is an access token
    const type =
      field === 'subjectTokenType' || (field === 'actorTokenType' && fields.actorToken !== undefined)
    const value = fields[field] ?? (type ? ACCESS_TOKEN_TYPE : undefined)
    if (value !== undefined) params[param] = typeof value === 'function' ? await value() : value
  }
  return params
}

/** Whether the grant is a code exchanged once, then kept alive by refresh (authorization code, device code). */
export function isOneTime(grant: Grant): boolean {
  return grant.type === 'authorization_code' || grant.type === 'urn:ietf:params:oauth:grant-type:device_code'
}

/**
 * Whether the grant can be run again to get a fresh token when a refresh token is refused
 * (an authorization code, a device code or a refresh token of one's own cannot).
 */
export function isRepeatable(grant: Grant): boolean {
  return !isOneTime(grant) && grant.type !== 'refresh_token'
}
