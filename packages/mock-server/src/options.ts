import { ConfigError } from './config-error.js'

/**
 * A client registered with the mock authorization server.
 * @see RFC 6749 §2, RFC 7591 §2 (the metadata names)
 */
export interface MockClient {
  clientId: string
  /** Omit for a public client, which authenticates with `none` (only `client_id`). @see RFC 6749 §2.1 */
  clientSecret?: string
  /**
   * Token-endpoint authentication methods this client may use.
   * @default ['client_secret_basic', 'client_secret_post'] with a secret, ['none'] without
   */
  authMethods?: readonly string[]
  /** Grant types this client may use; others fail with `unauthorized_client`. @default every grant the server supports */
  grantTypes?: readonly string[]
  /** Scopes this client may ask for, and gets when it asks for none. @default any scope the server knows */
  scopes?: readonly string[]
  /** Redirect URIs allowed at `/authorize`. @default any */
  redirectUris?: readonly string[]
  /** The `aud` of this client's access tokens when the request names no `audience`/`resource`. @default the server's `audience` */
  audience?: string
  /**
   * The client's public keys: they verify its `private_key_jwt` assertions and the assertions of
   * its JWT bearer grants. A client with keys and no secret defaults to `authMethods: ['private_key_jwt']`.
   * @see RFC 7591 §2 (`jwks`), RFC 7523
   */
  jwks?: { keys: readonly JsonWebKey[] }
  /**
   * The subject DN (`CN=svc,O=Example`) of the CA-issued certificate a `tls_client_auth` client
   * presents. A self-signed client (`self_signed_tls_client_auth`) registers its certificate as
   * an `x5c` entry in `jwks` instead.
   * @see RFC 8705 §2.1.2 (`tls_client_auth_subject_dn`), §2.2.2
   */
  tlsClientAuthSubjectDn?: string
}

/** A resource owner for the `password` and `authorization_code` grants. */
export interface MockUser {
  username: string
  password: string
  /** The `sub` claim. @default username */
  sub?: string
}

export interface MockAuthServerOptions {
  /** @default [{ clientId: 'demo-client', clientSecret: 'demo-secret' }] */
  clients?: readonly MockClient[]
  /** @default [{ username: 'alice', password: 'alice-password' }] */
  users?: readonly MockUser[]
  /** Scopes the server knows; asking for another fails with `invalid_scope`. @default any scope is granted */
  scopes?: readonly string[]
  /** Access-token lifetime in **seconds** (it is the `expires_in` value). @default 300 */
  tokenLifetime?: number
  /** Refresh-token lifetime in seconds. @default 86_400 */
  refreshTokenLifetime?: number
  /** The `refresh_token` grant returns a new refresh token and spends the old one. @default true */
  rotateRefreshTokens?: boolean
  /**
   * Replaying a spent refresh token also revokes every refresh token descended from the same grant.
   * @default true
   * @see RFC 9700 §4.14.2 (OAuth 2.0 Security BCP: refresh token reuse detection)
   */
  revokeRefreshTokenFamilyOnReuse?: boolean
  /** The `aud` claim when neither the client nor the request names one. @default 'https://api.tokenwell.test' */
  audience?: string
  /** Delay before every token-endpoint answer, ms. @default 0 */
  latency?: number
  /** Current time, epoch ms (drives `iat`, `exp` and every expiry check). @default Date.now */
  clock?: () => number
  /**
   * The token endpoint demands a server nonce in DPoP proofs: a proof without it gets
   * `use_dpop_nonce` with a `DPoP-Nonce` header. Proofs are verified whether or not this is set.
   * @default false
   * @see RFC 9449 §8
   */
  dpopNonce?: boolean
  /** Lifetime of a device code, in **seconds** (the `expires_in` of `/device_authorization`). @default 600 */
  deviceCodeLifetime?: number
  /**
   * The poll interval of the device code grant, in **seconds** (the `interval` it answers); a
   * poll sooner than that gets `slow_down`. Fractions are allowed, for fast tests.
   * @default 5
   * @see RFC 8628 §3.2, §3.5
   */
  deviceInterval?: number
  /**
   * The origin of a listener that asks for TLS client certificates: the metadata names its
   * endpoints as `mtls_endpoint_aliases` (`startMockAuthServerTls` sets it).
   * @see RFC 8705 §5
   */
  mtlsOrigin?: string
}

export interface ResolvedClient {
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly authMethods: readonly string[]
  readonly grantTypes: readonly string[] | undefined
  readonly scopes: readonly string[] | undefined
  readonly redirectUris: readonly string[] | undefined
  readonly jwks: { keys: readonly JsonWebKey[] } | undefined
  readonly audience: string | undefined
  readonly tlsClientAuthSubjectDn: string | undefined
}

export interface ResolvedMockAuthServerOptions {
  readonly issuer: string
  readonly clients: ReadonlyMap<string, ResolvedClient>
  readonly users: ReadonlyMap<string, Required<MockUser>>
  readonly scopes: readonly string[] | undefined
  readonly tokenLifetime: number
  readonly refreshTokenLifetime: number
  readonly rotateRefreshTokens: boolean
  readonly revokeRefreshTokenFamilyOnReuse: boolean
  readonly audience: string
  readonly latency: number
  readonly clock: () => number
  readonly dpopNonce: boolean
  readonly deviceCodeLifetime: number
  readonly deviceInterval: number
  readonly mtlsOrigin: string | undefined
}

const defaults = {
  clients: [{ clientId: 'demo-client', clientSecret: 'demo-secret' }] as readonly MockClient[],
  users: [{ username: 'alice', password: 'alice-password' }] as readonly MockUser[],
  tokenLifetime: 300,
  refreshTokenLifetime: 86_400,
  rotateRefreshTokens: true,
  revokeRefreshTokenFamilyOnReuse: true,
  audience: 'https://api.tokenwell.test',
  latency: 0,
  deviceCodeLifetime: 600,
  deviceInterval: 5,
} as const

/** Throws `ConfigError` unless `value` is a finite number ≥ 0. */
export function assertDuration(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a finite number >= 0`)
  }
}

function resolveClient(client: MockClient, index: number): ResolvedClient {
  if (typeof client?.clientId !== 'string' || client.clientId === '') {
    throw new ConfigError(`clients[${index}].clientId must be a non-empty string`)
  }
  const secret = client.clientSecret
  return Object.freeze({
    clientId: client.clientId,
    clientSecret: secret,
    authMethods:
      client.authMethods ??
      (secret !== undefined
        ? ['client_secret_basic', 'client_secret_post']
        : client.jwks !== undefined
          ? ['private_key_jwt']
          : ['none']),
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    redirectUris: client.redirectUris,
    audience: client.audience,
    jwks: client.jwks,
    tlsClientAuthSubjectDn: client.tlsClientAuthSubjectDn,
  })
}

const KNOWN_KEYS = new Set([
  'issuer',
  'clients',
  'users',
  'scopes',
  'tokenLifetime',
  'refreshTokenLifetime',
  'rotateRefreshTokens',
  'revokeRefreshTokenFamilyOnReuse',
  'audience',
  'latency',
  'clock',
  'dpopNonce',
  'deviceCodeLifetime',
  'deviceInterval',
  'mtlsOrigin',
])

/** Validates the options once and applies defaults. Throws `ConfigError` naming the option. */
export function resolveOptions(issuer: string, input: MockAuthServerOptions): ResolvedMockAuthServerOptions {
  // a typo like `tokenLifeTime` fails loudly instead of silently using the default
  for (const key of Object.keys(input))
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown option: ${key}`)
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new ConfigError('issuer must be an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('issuer must be an absolute http(s) URL')
  const tokenLifetime = input.tokenLifetime ?? defaults.tokenLifetime
  assertDuration('tokenLifetime', tokenLifetime)
  const refreshTokenLifetime = input.refreshTokenLifetime ?? defaults.refreshTokenLifetime
  assertDuration('refreshTokenLifetime', refreshTokenLifetime)
  const latency = input.latency ?? defaults.latency
  assertDuration('latency', latency)
  const deviceCodeLifetime = input.deviceCodeLifetime ?? defaults.deviceCodeLifetime
  assertDuration('deviceCodeLifetime', deviceCodeLifetime)
  const deviceInterval = input.deviceInterval ?? defaults.deviceInterval
  assertDuration('deviceInterval', deviceInterval)
  const clients = new Map<string, ResolvedClient>()
  for (const [index, client] of (input.clients ?? defaults.clients).entries()) {
    const resolved = resolveClient(client, index)
    if (clients.has(resolved.clientId)) throw new ConfigError(`clients[${index}].clientId is a duplicate`)
    clients.set(resolved.clientId, resolved)
  }
  const users = new Map<string, Required<MockUser>>()
  for (const [index, user] of (input.users ?? defaults.users).entries()) {
    if (typeof user?.username !== 'string' || typeof user.password !== 'string') {
      throw new ConfigError(`users[${index}] must have a string username and password`)
    }
    users.set(user.username, {
      username: user.username,
      password: user.password,
      sub: user.sub ?? user.username,
    })
  }
  return Object.freeze({
    issuer: issuer.replace(/\/+$/, ''),
    clients,
    users,
    scopes: input.scopes,
    tokenLifetime,
    refreshTokenLifetime,
    rotateRefreshTokens: input.rotateRefreshTokens ?? defaults.rotateRefreshTokens,
    revokeRefreshTokenFamilyOnReuse:
      input.revokeRefreshTokenFamilyOnReuse ?? defaults.revokeRefreshTokenFamilyOnReuse,
    audience: input.audience ?? defaults.audience,
    latency,
    clock: input.clock ?? (() => Date.now()),
    dpopNonce: input.dpopNonce === true,
    deviceCodeLifetime,
    deviceInterval,
    mtlsOrigin: input.mtlsOrigin,
  })
}
