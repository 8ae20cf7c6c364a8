import { type AccessTokenClaims, createAccessTokenVerifier } from './access-token-verifier.js'
import { handleAuthorizeRequest } from './authorize.js'
import { CONTROL_PATH, handleControl } from './control.js'
import { handleDeviceAuthorizationRequest, handleDeviceVerification } from './device-endpoint.js'
import { createDeviceRegistry, decideDevice } from './device-registry.js'
import { DPOP_ALGORITHMS } from './dpop-proof.js'
import { createFaultQueue, type TokenFault } from './faults.js'
import { errorResponse, jsonResponse, OAuthFailure } from './oauth-response.js'
import { assertDuration, type MockAuthServerOptions, resolveOptions } from './options.js'
import { createSigningKey } from './signing-key.js'
import type { AuthServerState } from './state.js'
import { type AuthServerStats, createAuthServerStats, type TokenRequestLogEntry } from './stats.js'
import { handleTokenRequest, supportedClientAuthMethods, supportedGrantTypes } from './token-endpoint.js'
import { handleIntrospection, handleRevocation } from './token-management.js'
import { createTokenRegistry } from './token-registry.js'

export interface CreateMockAuthServerOptions extends MockAuthServerOptions {
  /** The issuer URL; the endpoints live under it (`${issuer}/token`, …). Trailing slashes are dropped. */
  issuer: string
}

/** A mock OAuth 2.0 authorization server as one fetch-style function plus its knobs. */
export interface MockAuthServer {
  /** Answers one request to any of the server's endpoints; 404 for other paths. */
  handle(request: Request): Promise<Response>
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly authorizationEndpoint: string
  /** `${issuer}/device_authorization`. @see RFC 8628 §3.1 */
  readonly deviceAuthorizationEndpoint: string
  /** `${issuer}/device`: the page a user approves a device at (`verification_uri`). @see RFC 8628 §3.3 */
  readonly verificationUri: string
  readonly jwksUri: string
  readonly introspectionEndpoint: string
  readonly revocationEndpoint: string
  readonly stats: AuthServerStats
  /** Every token request, oldest first, secrets redacted. `stats.reset()` clears it. */
  readonly requests: readonly TokenRequestLogEntry[]
  /** The next `count` token requests fail as `fault` says (queued after earlier faults). */
  failNext(count: number, fault?: TokenFault): void
  /** Drops every queued fault: the outage is over. */
  clearFaults(): void
  /** Delay every token response by `ms`. */
  setLatency(ms: number): void
  /** Lifetime of access tokens issued from now on, in **seconds**. */
  setTokenLifetime(seconds: number): void
  /** Revokes every access and refresh token issued so far; later ones are unaffected. */
  revokeAll(): void
  /**
   * The user approves the pending device authorization with `userCode` (case and dashes do not
   * matter), as `username` (default: the first configured user): the next poll gets tokens.
   * Returns false when no pending, unexpired authorization has that code. @see RFC 8628 §3.3
   */
  approveDevice(userCode: string, options?: { username?: string }): boolean
  /** The user denies it: the next poll gets `access_denied`. Returns false as `approveDevice` does. */
  denyDevice(userCode: string): boolean
  /** The claims of a valid token (signature, issuer, not expired, not revoked), otherwise `undefined`. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined>
}

/** Authorization-server metadata. @see RFC 8414 §2, OpenID Connect Discovery 1.0 §3 */
function metadata(
  server: MockAuthServer,
  scopes: readonly string[] | undefined,
  mtlsOrigin: string | undefined,
): Record<string, unknown> {
  return {
    issuer: server.issuer,
    authorization_endpoint: server.authorizationEndpoint,
    token_endpoint: server.tokenEndpoint,
    device_authorization_endpoint: server.deviceAuthorizationEndpoint,
    jwks_uri: server.jwksUri,
    introspection_endpoint: server.introspectionEndpoint,
    revocation_endpoint: server.revocationEndpoint,
    grant_types_supported: supportedGrantTypes(),
    token_endpoint_auth_methods_supported: supportedClientAuthMethods(),
    introspection_endpoint_auth_methods_supported: supportedClientAuthMethods(),
    revocation_endpoint_auth_methods_supported: supportedClientAuthMethods(),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256', 'plain'],
    authorization_response_iss_parameter_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    ...(scopes !== undefined && { scopes_supported: scopes }),
    // RFC 8705 §3.3, §5: tokens requested over mutual TLS are bound to the certificate
    tls_client_certificate_bound_access_tokens: true,
    ...(mtlsOrigin !== undefined && { mtls_endpoint_aliases: mtlsAliases(server, mtlsOrigin) }),
  }
}

/** The endpoints at the mutual-TLS listener: the same paths on its origin. @see RFC 8705 §5 */
function mtlsAliases(server: MockAuthServer, origin: string): Record<string, string> {
  const at = (url: string) => `${origin}${new URL(url).pathname}`
  return {
    token_endpoint: at(server.tokenEndpoint),
    revocation_endpoint: at(server.revocationEndpoint),
    introspection_endpoint: at(server.introspectionEndpoint),
    device_authorization_endpoint: at(server.deviceAuthorizationEndpoint),
  }
}

/**
 * Creates a mock authorization server with no I/O of its own: serve `handle` over `node:http`
 * (`startMockAuthServer`), msw (`mockAuthHandlers`) or any fetch-style router. The signing key
 * (ES256) is generated per server.
 * @example
 * const auth = createMockAuthServer({ issuer: 'https://as.test' })
 * const res = await auth.handle(new Request('https://as.test/token', { method: 'POST', … }))
 * @see RFC 6749, RFC 8414, RFC 7662, RFC 7009, RFC 9068
 */
export function createMockAuthServer(input: CreateMockAuthServerOptions): MockAuthServer {
  const options = resolveOptions(input.issuer, input)
  const log: TokenRequestLogEntry[] = []
  const state: AuthServerState = {
    options,
    key: createSigningKey(),
    registry: createTokenRegistry(),
    codes: new Map(),
    devices: createDeviceRegistry(),
    stats: createAuthServerStats(supportedGrantTypes(), [...options.clients.keys()], log),
    log,
    faults: createFaultQueue(),
    tokenLifetime: options.tokenLifetime,
    latency: options.latency,
    issued: 0,
  }
  const verifyAccessToken = createAccessTokenVerifier({
    key: state.key,
    issuer: options.issuer,
    registry: state.registry,
    clock: options.clock,
  })
  const { issuer } = options
  const base = new URL(issuer).pathname.replace(/\/$/, '')
  const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
    '/token': (request) => handleTokenRequest(state, request),
    '/authorize': (request) => handleAuthorizeRequest(state, request),
    '/device_authorization': (request) => handleDeviceAuthorizationRequest(state, request),
    '/device': (request) => handleDeviceVerification(state, request),
    '/jwks': async () => jsonResponse(await state.key.jwks(), 200, { 'cache-control': 'public, max-age=60' }),
    '/introspect': (request) => handleIntrospection(state, request, verifyAccessToken),
    '/revoke': (request) => handleRevocation(state, request, verifyAccessToken),
    '/.well-known/openid-configuration': () =>
      jsonResponse(metadata(server, options.scopes, options.mtlsOrigin)),
    '/.well-known/oauth-authorization-server': () =>
      jsonResponse(metadata(server, options.scopes, options.mtlsOrigin)),
  }
  // RFC 8414 §3.1: for an issuer with a path, the well-known segment goes before it
  const wellKnownPrefix = `/.well-known/oauth-authorization-server${base}`
  const controlDefaults = { latency: options.latency, tokenLifetime: options.tokenLifetime }
  const server: MockAuthServer = {
    async handle(request) {
      const { pathname } = new URL(request.url)
      const path =
        pathname === wellKnownPrefix
          ? '/.well-known/oauth-authorization-server'
          : pathname.startsWith(base)
            ? pathname.slice(base.length)
            : pathname
      if (path.startsWith(`${CONTROL_PATH}/`))
        return handleControl(server, controlDefaults, request, path.slice(CONTROL_PATH.length))
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined
      if (route === undefined)
        return errorResponse(
          new OAuthFailure('invalid_request', `no endpoint at ${pathname}`, { status: 404 }),
        )
      return route(request)
    },
    issuer,
    tokenEndpoint: `${issuer}/token`,
    authorizationEndpoint: `${issuer}/authorize`,
    deviceAuthorizationEndpoint: `${issuer}/device_authorization`,
    verificationUri: `${issuer}/device`,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/introspect`,
    revocationEndpoint: `${issuer}/revoke`,
    stats: state.stats,
    requests: log,
    failNext: (count, fault = {}) => state.faults.add(count, fault),
    clearFaults: () => state.faults.clear(),
    setLatency(ms) {
      assertDuration('latency', ms)
      state.latency = ms
    },
    setTokenLifetime(seconds) {
      assertDuration('tokenLifetime', seconds)
      state.tokenLifetime = seconds
    },
    revokeAll: () => state.registry.revokeAll(),
    approveDevice: (userCode, { username } = {}) => decideDevice(state, userCode, 'approve', username),
    denyDevice: (userCode) => decideDevice(state, userCode, 'deny'),
    verifyAccessToken,
  }
  return server
}
