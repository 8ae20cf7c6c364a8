import { unwrapFetch } from '../adapter/bare-fetch.js'
import type { AuthorizationServerMetadata, DiscoveryOptions } from '../discovery/metadata-types.js'
import type { Dpop } from '../dpop/dpop.js'
import type { ClientAssertionMethod } from '../endpoint/client-assertion-method.js'
import { ConfigError } from '../errors.js'
import { DEFAULT_DEVICE_INTERVAL, GRANT_TYPES, type Grant } from '../grants/grants.js'
import { createMemoryTokenStore, type TokenStore } from '../store.js'
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

/** Options that are numbers, with their defaults and least values: `int` ones are integers ≥ 1, the rest ms. */
const NUMBERS = {
  refreshSkew: [30_000, 0],
  defaultLifetime: [300_000, 1],
  timeout: [10_000, 1],
  failureCooldown: [1_000, 0],
  maxResponseBytes: [262_144, 'int'],
  lockTtl: [15_000, 1],
} as const satisfies Record<string, readonly [number, number | 'int']>
const RETRY = {
  attempts: [3, 'int'],
  minDelay: [200, 0],
  maxDelay: [5_000, 0],
  deadline: [30_000, 0],
} as const satisfies Record<keyof ResolvedRetryOptions, readonly [number, number | 'int']>

const KNOWN_KEYS = new Set<string>([
  ...Object.keys(NUMBERS),
  ...'tokenEndpoint issuer protectedResource discovery revocation revocationEndpoint clientId clientSecret clientAuth dpop grant scope audience resource extraParams refreshAhead retry store fetch clock logger allowInsecureHttp'.split(
    ' ',
  ),
])
const CLIENT_AUTH =
  'client_secret_basic client_secret_post private_key_jwt client_secret_jwt none tls_client_auth self_signed_tls_client_auth'.split(
    ' ',
  )
const JWT_METHODS = CLIENT_AUTH.slice(2, 4)
/** Methods that send no secret: nothing, a signed assertion, or a TLS client certificate. */
const SECRETLESS = ['private_key_jwt', ...CLIENT_AUTH.slice(4)]
/** Parameters tokenwell sets itself; `extraParams` may not override them. */
const RESERVED_PARAMS = new Set(
  'grant_type client_id client_secret client_assertion client_assertion_type scope audience resource username password refresh_token code redirect_uri code_verifier assertion subject_token subject_token_type actor_token actor_token_type requested_token_type device_code'.split(
    ' ',
  ),
)
const JWT_ENTRY = 'from @tokenwell/core/jwt'

/** Options that moved to a plug-in of their own entry, so that who does not use them does not bundle them. */
const MOVED: Record<string, string> = {
  privateKey: `clientAuth: privateKeyJwt({ privateKey }) ${JWT_ENTRY}`,
  clientAssertion: `privateKeyJwt() / clientSecretJwt() ${JWT_ENTRY}`,
}

/** The string field each grant type needs (a function is also accepted where it may be one). */
const GRANT_FIELDS: Readonly<Record<string, string>> = {
  password: 'username',
  refresh_token: 'refreshToken',
  authorization_code: 'code',
  'urn:ietf:params:oauth:grant-type:jwt-bearer': 'assertion',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'subjectToken',
  'urn:ietf:params:oauth:grant-type:device_code': 'deviceCode',
}

/** Validates `input` once, applies defaults, and returns a frozen result. Throws `ConfigError` naming the option. */
export function resolveOptions(input: TokenProviderOptions): ResolvedTokenProviderOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options must be an object')
  for (const key of Object.keys(input)) {
    // a typo such as `clientSecert` fails loudly instead of silently sending no secret
    if (MOVED[key] !== undefined) throw new ConfigError(`option "${key}" moved: use ${MOVED[key]}`)
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown option "${key.slice(0, 40)}"`)
  }
  const discovered = input.issuer !== undefined || input.protectedResource !== undefined
  if ((input.tokenEndpoint === undefined) !== discovered) {
    throw new ConfigError('give exactly one of tokenEndpoint or issuer/protectedResource')
  }
  if (discovered && typeof input.discovery?.options !== 'function') {
    throw new ConfigError('issuer and protectedResource need discovery from @tokenwell/core/discovery')
  }
  const insecure = input.allowInsecureHttp === true
  const endpoint = (name: 'tokenEndpoint' | 'revocationEndpoint') =>
    input[name] === undefined ? undefined : parseEndpoint(name, input[name], insecure)
  const tokenEndpoint = endpoint('tokenEndpoint')
  const resource = normaliseResource(input.resource)
  // the issuer and resource checks come with the discovery plug-in
  const found = discovered ? (input.discovery as Discovery).options(input, resource, insecure) : undefined
  const clientId = nonEmptyString('clientId', input.clientId)
  const clientAssertion =
    typeof input.clientAuth === 'object' && input.clientAuth !== null ? input.clientAuth : undefined
  const clientAuth = (clientAssertion?.method ?? input.clientAuth ?? CLIENT_AUTH[0]) as string
  if (clientAssertion ? typeof clientAssertion.sign !== 'function' : JWT_METHODS.includes(clientAuth)) {
    throw new ConfigError(
      `clientAuth "${clientAuth}" signs: use ${clientAuth === 'private_key_jwt' ? 'privateKeyJwt({ privateKey })' : 'clientSecretJwt()'} ${JWT_ENTRY}`,
    )
  }
  if (!CLIENT_AUTH.includes(clientAuth)) {
    throw new ConfigError(`clientAuth must be one of ${CLIENT_AUTH.join(', ')}`)
  }
  const secretless = SECRETLESS.includes(clientAuth)
  const clientSecret = input.clientSecret
  if (!secretless) {
    if (clientSecret === undefined) {
      throw new ConfigError(
        `clientSecret is required for clientAuth "${clientAuth}" (use clientAuth: 'none' for a public client)`,
      )
    }
    nonEmptyString('clientSecret', clientSecret)
  }
  const grant = validateGrant(input.grant ?? { type: 'client_credentials' })
  const extraParams = input.extraParams ?? {}
  for (const [name, value] of Object.entries(extraParams)) {
    if (RESERVED_PARAMS.has(name))
      throw new ConfigError(`extraParams.${name} is set by tokenwell; use the matching option`)
    if (typeof value !== 'string') throw new ConfigError(`extraParams.${name} must be a string`)
  }
  const retry = numbers<keyof typeof RETRY>(
    RETRY,
    input.retry === false ? { attempts: 1 } : input.retry || {},
    'retry.',
  )
  for (const name of ['fetch', 'clock'] as const)
    if (input[name] !== undefined && typeof input[name] !== 'function')
      throw new ConfigError(`${name} must be a function`)
  const clock = input.clock ?? (() => Date.now())

  return Object.freeze({
    ...numbers<keyof typeof NUMBERS>(NUMBERS, input),
    tokenEndpoint,
    issuer: found?.issuer,
    clientId,
    protectedResource: found?.protectedResource,
    discovery: discovered ? input.discovery : undefined,
    revocationEndpoint: endpoint('revocationEndpoint'),
    revocation: plugin(
      'revocation',
      input.revocation,
      'revoke',
      'revocation from @tokenwell/core/revocation',
    ),
    clientSecret: secretless ? undefined : clientSecret,
    clientAuth: clientAuth as ClientAuthMethod,
    clientAuthExplicit: input.clientAuth !== undefined,
    clientAssertion,
    dpop: plugin(
      'dpop',
      (input.dpop as unknown) === false ? undefined : input.dpop,
      'tokenRequest',
      'createDpop() from @tokenwell/core/dpop',
    ),
    grant,
    scope: normaliseScope(input.scope),
    audience: input.audience === undefined ? undefined : nonEmptyString('audience', input.audience),
    resource: found?.resource ?? resource,
    extraParams: Object.freeze({ ...extraParams }),
    refreshAhead: boolean('refreshAhead', input.refreshAhead ?? true),
    retry,
    store: input.store ?? createMemoryTokenStore({ clock }),
    // resolved per call, so tests (and polyfills) can replace the global after construction
    fetch: input.fetch ?? ((request: Request) => unwrapFetch(globalThis.fetch)(request)),
    clock,
    logger: input.logger,
    allowInsecureHttp: insecure,
  })
}

/** Each number option of `table`, from `input` or its default, checked against its least value. */
function numbers<K extends string>(
  table: Readonly<Record<K, readonly [number, number | 'int']>>,
  input: Partial<Record<K, unknown>>,
  prefix = '',
): Record<K, number> {
  const out = {} as Record<K, number>
  for (const name in table) {
    const [fallback, min] = table[name]
    // a top-level `null` takes the default, as `undefined` does; inside `retry` only `undefined` does
    const value = prefix ? (input[name] === undefined ? fallback : input[name]) : (input[name] ?? fallback)
    out[name] = min === 'int' ? positiveInteger(prefix + name, value) : duration(prefix + name, value, min)
  }
  return out
}

/** A plug-in option: `undefined`, or an object with the function `method`. */
function plugin<T>(name: string, value: T, method: string, what: string): T | undefined {
  if (value !== undefined && typeof (value as Record<string, unknown> | null)?.[method] !== 'function')
    throw new ConfigError(`${name} takes ${what}`)
  return value
}

/** Whether `url` points at this machine (plain http is acceptable there). */
export function isLoopback(url: URL): boolean {
  const host = url.hostname
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  )
}

/** Parses an absolute http(s) URL option; the message never echoes the URL (it may hold credentials). */
export function parseEndpoint(name: string, value: unknown, allowInsecureHttp: boolean): URL {
  let url: URL
  try {
    if (typeof value !== 'string' && !(value instanceof URL)) throw new TypeError()
    url = new URL(value)
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  if (url.username || url.password)
    throw new ConfigError(`${name} must not contain credentials (user:password@)`)
  if (url.hash) throw new ConfigError(`${name} must not contain a fragment`)
  if (url.protocol === 'http:' && !isLoopback(url) && !allowInsecureHttp) {
    throw new ConfigError(
      `${name} must be https: (plain http is allowed on loopback, or with allowInsecureHttp)`,
    )
  }
  return url
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigError(`${name} must be a non-empty string`)
  return value
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${name} must be true or false`)
  return value
}

function duration(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number of milliseconds ≥ ${min}`)
  }
  return value
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be an integer ≥ 1`)
  return value
}

function normaliseScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined
  const list = typeof scope === 'string' ? scope.split(/\s+/) : Array.isArray(scope) ? scope : undefined
  if (!list) throw new ConfigError('scope must be a string or an array of strings')
  for (const item of list) {
    if (typeof item !== 'string' || (typeof scope !== 'string' && /[\s"\\]/.test(item))) {
      throw new ConfigError('scope entries must be strings without spaces')
    }
  }
  const joined = list.filter(Boolean).join(' ')
  return joined === '' ? undefined : joined
}

function normaliseResource(resource: string | readonly string[] | undefined): readonly string[] {
  if (resource === undefined) return []
  const list = typeof resource === 'string' ? [resource] : resource
  if (!Array.isArray(list)) throw new ConfigError('resource must be a URI or an array of URIs')
  for (const item of list) {
    // RFC 8707 §2: an absolute URI without a fragment
    let ok = false
    try {
      ok = typeof item === 'string' && new URL(item).hash === '' && !item.includes('#')
    } catch {}
    if (!ok) throw new ConfigError('resource must be an absolute URI without a fragment (RFC 8707 §2)')
  }
  return Object.freeze([...list])
}

function validateGrant(grant: Grant): Grant {
  if (typeof grant !== 'object' || grant === null || !GRANT_TYPES.includes(grant.type)) {
    throw new ConfigError(`grant.type must be one of ${GRANT_TYPES.join(', ')}`)
  }
  const fields = grant as unknown as Record<string, unknown>
  const field = GRANT_FIELDS[grant.type]
  if (grant.type === 'urn:ietf:params:oauth:grant-type:device_code' && typeof grant.poller !== 'function')
    throw new ConfigError('a device code grant is made by deviceCodeGrant() from @tokenwell/core/device')
  // a JWT bearer assertion and a subject token may be functions that make one per request
  const lazy = (field === 'assertion' || field === 'subjectToken') && typeof fields[field] === 'function'
  if (field !== undefined && !lazy) nonEmptyString(`grant.${field}`, fields[field])
  switch (grant.type) {
    case 'password':
      if (typeof grant.password !== 'string') throw new ConfigError('grant.password must be a string')
      break
    case 'authorization_code':
      if (typeof grant.redirectUri !== 'string' || !URL.canParse(grant.redirectUri)) {
        throw new ConfigError('grant.redirectUri must be an absolute URI')
      }
      break
    case 'urn:ietf:params:oauth:grant-type:device_code':
      if (grant.expiresAt !== undefined && !Number.isFinite(grant.expiresAt))
        throw new ConfigError('grant.expiresAt must be an instant in epoch ms')
      return Object.freeze({
        ...grant,
        interval: duration('grant.interval', grant.interval ?? DEFAULT_DEVICE_INTERVAL),
      })
  }
  return Object.freeze({ ...grant })
}
