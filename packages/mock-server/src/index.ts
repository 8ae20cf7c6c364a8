export type { AccessTokenClaims } from './access-token-verifier.js'
export { type CreateMockAuthServerOptions, createMockAuthServer, type MockAuthServer } from './auth-server.js'
export { type ClientAuthInput, type ClientAuthMethodHandler, clientAuthMethods } from './client-auth.js'
export { type ClientCertificate, clientCertificateOf } from './client-certificate.js'
export { ConfigError } from './config-error.js'
export type { TokenFault } from './faults.js'
export { type GrantContext, type GrantHandler, type GrantResult, grantHandlers } from './grants.js'
export { type FetchHandler, type ServedHandler, type ServeOptions, serveFetchHandler } from './node-server.js'
export { type OAuthErrorCode, OAuthFailure } from './oauth-response.js'
export type { MockAuthServerOptions, MockClient, MockUser } from './options.js'
export {
  type ApiFault,
  createProtectedApi,
  type ProtectedApi,
  type ProtectedApiLogEntry,
  type ProtectedApiOptions,
  type ProtectedApiStats,
} from './protected-api.js'
export { type ServeTlsOptions, serveFetchHandlerTls, type TlsOptions } from './serve-tls.js'
export {
  type RunningMockAuthServer,
  type StartMockAuthServerOptions,
  startMockAuthServer,
} from './start-mock-auth-server.js'
export {
  type RunningProtectedApi,
  type StartProtectedApiOptions,
  startProtectedApi,
} from './start-protected-api.js'
export {
  type RunningMockAuthServerTls,
  type StartMockAuthServerTlsOptions,
  type StartProtectedApiTlsOptions,
  startMockAuthServerTls,
  startProtectedApiTls,
} from './start-tls.js'
export type { AuthServerStats, TokenRequestLogEntry } from './stats.js'
