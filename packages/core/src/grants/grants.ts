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

export const GRANT_TYPES: readonly GrantType[] = [
  'client_credentials',
  'password',
  'refresh_token',
  'authorization_code',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:device_code',
]

async function resolveValue(value: ValueOrProvider): Promise<string> {
  return typeof value === 'function' ? await value() : value
}

/**
 * The form parameters of a grant (without client authentication, scope or extras).
 * `refreshToken` is the newest refresh token the provider holds; it wins over the grant's own.
 */
export async function grantParams(
  grant: Grant,
  refreshToken: string | undefined,
): Promise<Record<string, string>> {
  if (refreshToken !== undefined) return { grant_type: 'refresh_token', refresh_token: refreshToken }
  switch (grant.type) {
    case 'client_credentials':
      return { grant_type: grant.type }
    case 'password':
      return { grant_type: grant.type, username: grant.username, password: grant.password }
    case 'refresh_token':
      return { grant_type: grant.type, refresh_token: grant.refreshToken }
    case 'authorization_code':
      return {
        grant_type: grant.type,
        code: grant.code,
        redirect_uri: grant.redirectUri,
        ...(grant.codeVerifier !== undefined && { code_verifier: grant.codeVerifier }),
      }
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
      return { grant_type: grant.type, assertion: await resolveValue(grant.assertion) }
    case 'urn:ietf:params:oauth:grant-type:token-exchange':
      return {
        grant_type: grant.type,
        subject_token: await resolveValue(grant.subjectToken),
        subject_token_type: grant.subjectTokenType ?? 'urn:ietf:params:oauth:token-type:access_token',
        ...(grant.actorToken !== undefined && {
          actor_token: await resolveValue(grant.actorToken),
          actor_token_type: grant.actorTokenType ?? 'urn:ietf:params:oauth:token-type:access_token',
        }),
        ...(grant.requestedTokenType !== undefined && { requested_token_type: grant.requestedTokenType }),
      }
    case 'urn:ietf:params:oauth:grant-type:device_code':
      return { grant_type: grant.type, device_code: grant.deviceCode }
  }
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
