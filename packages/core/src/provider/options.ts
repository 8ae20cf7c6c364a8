import type { AuthorizationServerMetadata, DiscoveryOptions } from '../discovery/metadata-types.js'
import type { Dpop } from '../dpop/dpop.js'
import type { ClientAssertionMethod } from '../endpoint/client-assertion-method.js'
import type { Grant } from '../grants/grants.js'
import type { TokenStore } from '../store.js'
import type { Logger } from './events.js'
import type { FetchLike } from './fetch-like.js'

export type { FetchLike } from './fetch-like.js'

/**
 * How the client proves its identity to the token endpoint: HTTP Basic, form fields, a JWT
 * signed with `privateKey` (`private_key_jwt`) or with `clientSecret` (`client_secret_jwt`,
 * HS256), nothing but `client_id` (a public client), or a TLS client certificate presented by
 * the `fetch` (`tls_client_auth`: a CA-issued certificate, `self_signed_tls_client_auth`: a
 * registered self-signed one; see `createNodeFetch({ cert, key })` in @tokenwell/node), with
 * `client_id` in the body and no secret.
 * @see RFC 6749 §2.3, RFC 7523 §2.2, OpenID Connect Core 1.0 §9, RFC 8705 §2
 */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'client_secret_jwt'
  | 'none'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'

/** Where and how to ask for tokens, once known (configured, or discovered from the issuer). */
export interface ResolvedEndpoint {
  tokenEndpoint: URL
  clientAuth: ClientAuthMethod
  metadata?: AuthorizationServerMetadata
  /** The discovered token endpoint as events and logs show it: without a secret the metadata echoed. */
  shownEndpoint?: string
}

/**
 * Discovery of the authorization server, for the `discovery` option of a provider (or of
 * `buildAuthorizationUrl`, `startDeviceAuthorization`) that names an `issuer` or a
 * `protectedResource`: `discovery` from `@tokenwell/core/discovery`. Its code is in that entry
 * only, so a provider with a `tokenEndpoint` bundles none of it.
 */
export interface Discovery {
  /** The token endpoint and client authentication of a provider with `issuer` / `protectedResource`. */
  endpoint(options: ResolvedTokenProviderOptions): Promise<ResolvedEndpoint>
  /** The metadata of `issuer` (see `discoverAuthorizationServer`). */
  metadata(issuer: string | URL, options?: DiscoveryOptions): Promise<AuthorizationServerMetadata>
  /**
   * Checks the `issuer` and `protectedResource` options (a `ConfigError` naming the option) and
   * adds the protected resource to `resource` (RFC 9728: its tokens are requested for it).
   */
  options(
    input: Pick<TokenProviderOptions, 'issuer' | 'protectedResource'>,
    resource: readonly string[],
    allowInsecureHttp: boolean,
  ): { issuer: string | undefined; protectedResource: string | undefined; resource: readonly string[] }
}

/**
 * Token revocation (RFC 7009) for `provider.revoke()`: `revocation` from
 * `@tokenwell/core/revocation`. Its request code is in that entry only.
 */
export interface Revocation {
  readonly revoke: (...args: never[]) => Promise<unknown>
}

/** Retries of failed token requests: network errors, timeouts, 429 and 5xx. OAuth 4xx errors are never retried. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 3 */
  attempts?: number | undefined
  /** Base delay of the exponential backoff, ms (full jitter: a random delay up to base × 2^n). @default 200 */
  minDelay?: number | undefined
  /** Upper bound of one delay, ms, `Retry-After` included. @default 5_000 */
  maxDelay?: number | undefined
  /** No retry starts later than this many ms after the first attempt began. @default 30_000 */
  deadline?: number | undefined
}

/** `RetryOptions` after defaults. */
export interface ResolvedRetryOptions {
  readonly attempts: number
  readonly minDelay: number
  readonly maxDelay: number
  readonly deadline: number
}

export interface TokenProviderOptions {
  /**
   * Absolute http(s) URL of the token endpoint. Plain http only on loopback or with `allowInsecureHttp`.
   * Give this or `issuer`, not both.
   */
  tokenEndpoint?: string | URL | undefined
  /**
   * The authorization server's issuer identifier: its metadata (RFC 8414, else OpenID Connect
   * discovery) is read once, on the first token request, and supplies `token_endpoint` and the
   * client authentication methods it supports. The document must name this exact `issuer`, or the
   * request fails with `DiscoveryError`. Give this or `tokenEndpoint`, not both (with
   * `protectedResource`, it picks one of the resource's authorization servers).
   * @see RFC 8414 §3, OpenID Connect Discovery 1.0 §4
   */
  issuer?: string | URL | undefined
  /**
   * The protected resource the tokens are for, when neither `tokenEndpoint` nor `issuer` is known:
   * its metadata (`/.well-known/oauth-protected-resource` + the resource's path) is read once, on
   * the first token request; it must name this exact resource, and its first authorization server
   * (or the one equal to `issuer`) is discovered as with `issuer`. Tokens are requested with
   * `resource` set to it. Mismatches fail with `DiscoveryError`.
   * @see RFC 9728 §3, RFC 8707
   * @example
   * createTokenProvider({ protectedResource: 'https://api.example.com/mcp', clientId, clientSecret })
   */
  protectedResource?: string | URL | undefined
  /**
   * The discovery code `issuer` and `protectedResource` need: `discovery` from
   * `@tokenwell/core/discovery` (a provider with a `tokenEndpoint` bundles none of it).
   */
  discovery?: Discovery | undefined
  /**
   * The code `provider.revoke()` needs: `revocation` from `@tokenwell/core/revocation` (a provider
   * that never revokes bundles none of it). @see RFC 7009
   */
  revocation?: Revocation | undefined
  /**
   * The revocation endpoint `provider.revoke()` uses. @default the discovered `revocation_endpoint`
   * @see RFC 7009 §2
   */
  revocationEndpoint?: string | URL | undefined
  /** @see RFC 6749 §2.2 */
  clientId: string
  clientSecret?: string | undefined
  /**
   * How the client authenticates: a method name, or a JWT method from `@tokenwell/core/jwt`
   * (`privateKeyJwt({ privateKey })`, `clientSecretJwt()`), which carries the signing code so that
   * a provider without one bundles none of it. With `issuer` and no explicit choice, a
   * secret-based client uses `client_secret_post` when the server advertises only that.
   * @default 'client_secret_basic'
   */
  clientAuth?:
    | Exclude<ClientAuthMethod, 'private_key_jwt' | 'client_secret_jwt'>
    | ClientAssertionMethod
    | undefined
  /**
   * Sender-constrained tokens with DPoP: `createDpop()` from `@tokenwell/core/dpop` (a
   * per-provider ES256 key pair, or `createDpop({ key })` to keep one key across restarts).
   * @default no DPoP
   * @see RFC 9449
   */
  dpop?: Dpop | undefined
  /** @default { type: 'client_credentials' } */
  grant?: Grant | undefined
  /** A space-delimited string or an array of scopes; sent space-delimited. @see RFC 6749 §3.3 */
  scope?: string | readonly string[] | undefined
  /** The `audience` parameter that Auth0-style servers expect. */
  audience?: string | undefined
  /** One or more resource indicators (absolute URIs). @see RFC 8707 */
  resource?: string | readonly string[] | undefined
  /** More form parameters for the token request. They cannot override the ones tokenwell sets. */
  extraParams?: Readonly<Record<string, string>> | undefined
  /** A token counts as expired this many ms before `expiresAt` (capped at half its lifetime). @default 30_000 */
  refreshSkew?: number | undefined
  /** Refresh in the background at 80–90% of the lifetime so callers never wait. @default true */
  refreshAhead?: boolean | undefined
  /** Lifetime assumed, ms, when the response has no `expires_in` and the token is not a JWT with `exp`. @default 300_000 */
  defaultLifetime?: number | undefined
  /** Time limit of one token request attempt, ms. @default 10_000 */
  timeout?: number | undefined
  /** Retries of failed token requests, or `false` for none. @default { attempts: 3, minDelay: 200, maxDelay: 5_000, deadline: 30_000 } */
  retry?: RetryOptions | false | undefined
  /** After a failed fetch with no valid token, callers in the next this-many ms get the same error without a new request. @default 1_000 */
  failureCooldown?: number | undefined
  /** Largest token response body read, bytes. @default 262_144 */
  maxResponseBytes?: number | undefined
  /** Where tokens are cached. @default an in-memory store */
  store?: TokenStore | undefined
  /** How long a process holds a shared store's fetch lease, ms (and waits for another's). @default 15_000 */
  lockTtl?: number | undefined
  /** The fetch used for token requests. @default globalThis.fetch, resolved per call (past a `withOAuth2` wrapper assigned to it) */
  fetch?: FetchLike | undefined
  /** Current time, epoch ms. @default Date.now */
  clock?: (() => number) | undefined
  /** Receives warnings and debug lines (e.g. `console` or a pino logger). Never receives a secret. */
  logger?: Logger | undefined
  /** Allow plain `http:` to a host that is not loopback. @default false */
  allowInsecureHttp?: boolean | undefined
}

export interface ResolvedTokenProviderOptions {
  /** The configured token endpoint; `undefined` when it is discovered from `issuer`. */
  readonly tokenEndpoint: URL | undefined
  /** The issuer identifier as given (compared with the metadata's `issuer`). */
  readonly issuer: string | undefined
  /** The protected resource whose metadata names the authorization server (also in `resource`). */
  readonly protectedResource: string | undefined
  readonly discovery: Discovery | undefined
  readonly revocationEndpoint: URL | undefined
  readonly revocation: Revocation | undefined
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly clientAuth: ClientAuthMethod
  /** Whether `clientAuth` was given (discovery may only change a default). */
  readonly clientAuthExplicit: boolean
  /** The signer of `private_key_jwt` / `client_secret_jwt`. */
  readonly clientAssertion: ClientAssertionMethod | undefined
  readonly dpop: Dpop | undefined
  readonly grant: Grant
  readonly scope: string | undefined
  readonly audience: string | undefined
  readonly resource: readonly string[]
  readonly extraParams: Readonly<Record<string, string>>
  readonly refreshSkew: number
  readonly refreshAhead: boolean
  readonly defaultLifetime: number
  readonly timeout: number
  readonly retry: ResolvedRetryOptions
  readonly failureCooldown: number
  readonly maxResponseBytes: number
  readonly store: TokenStore
  readonly lockTtl: number
  readonly fetch: FetchLike
  readonly clock: () => number
  readonly logger: Logger | undefined
  readonly allowInsecureHttp: boolean
}
