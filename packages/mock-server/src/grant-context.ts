import type { DeviceRegistry } from './device-registry.js'
import { OAuthFailure } from './oauth-response.js'
import type { ResolvedClient, ResolvedMockAuthServerOptions } from './options.js'
import type { AuthServerStats } from './stats.js'
import type { TokenRegistry } from './token-registry.js'

/** An authorization code handed out by `/authorize`, waiting to be exchanged once. @see RFC 6749 §4.1.2 */
export interface AuthorizationCodeRecord {
  readonly clientId: string
  readonly redirectUri: string | undefined
  readonly scope: string | undefined
  readonly sub: string
  readonly username: string
  readonly codeChallenge: string | undefined
  readonly codeChallengeMethod: string
  readonly expiresAt: number
  used: boolean
  /** What the exchange issued, revoked if the code is replayed (RFC 6749 §4.1.2). */
  issued: { jti: string; family: string | undefined } | undefined
}

/** What a grant function sees. */
export interface GrantContext {
  readonly params: URLSearchParams
  readonly client: ResolvedClient
  readonly options: ResolvedMockAuthServerOptions
  readonly registry: TokenRegistry
  readonly codes: Map<string, AuthorizationCodeRecord>
  /** Device authorizations from `/device_authorization`. */
  readonly devices: DeviceRegistry
  /** Epoch ms. */
  readonly now: number
  readonly request: Request
  /** The server's counters (a grant counts what only it can see, such as refresh token reuse). */
  readonly stats: AuthServerStats
  /** Whether this request still counts in `stats` (it arrived since their last reset). */
  readonly counts: () => boolean
}

/** What a grant decided; the token endpoint signs the access token and stores the refresh token. */
export interface GrantResult {
  sub: string
  username?: string | undefined
  scope: string | undefined
  /** The scope a rotated refresh token keeps: the original grant's, however a refresh narrowed the access token's (RFC 6749 §6). @default scope */
  refreshScope?: string | undefined
  /** Issue a refresh token: `'new'` starts a family, a string continues that family. @default no refresh token */
  refreshFamily?: 'new' | string
  /** Overrides the `aud` the request or client would give. */
  aud?: string | string[]
  /** More claims of the access token (e.g. `act` for token exchange, `cnf` for DPoP). */
  claims?: Record<string, unknown>
  /** More members of the JSON response (e.g. `issued_token_type`). */
  response?: Record<string, unknown>
  /** Called with what was issued (the authorization code grant remembers it). */
  onIssued?: (issued: { jti: string; family: string | undefined }) => void
}

/**
 * One grant type. To add one (e.g. token exchange), add an entry to `grantHandlers` that returns a
 * `GrantResult` or throws `OAuthFailure`.
 */
export type GrantHandler = (context: GrantContext) => GrantResult | Promise<GrantResult>

/** A required parameter, or `invalid_request`. @see RFC 6749 §5.2 */
export function requireParam(params: URLSearchParams, name: string): string {
  const value = params.get(name)
  if (value === null || value === '') throw new OAuthFailure('invalid_request', `missing parameter: ${name}`)
  return value
}

/**
 * The scope granted: what was asked for, checked against the server's, the client's and (for a refresh)
 * the original grant's scopes; without a request, the client's scopes or the original grant's.
 * @see RFC 6749 §3.3, §6 (a refresh may narrow, never widen)
 */
export function grantScope(context: GrantContext, ceiling?: string): string | undefined {
  const requested = (context.params.get('scope') ?? '').split(' ').filter(Boolean)
  if (requested.length === 0) return ceiling ?? context.client.scopes?.join(' ')
  const allowed = [context.options.scopes, context.client.scopes, ceiling?.split(' ')]
  for (const scope of requested) {
    if (allowed.some((list) => list !== undefined && !list.includes(scope))) {
      throw new OAuthFailure('invalid_scope', `scope not allowed: ${scope}`)
    }
  }
  return [...new Set(requested)].join(' ')
}
