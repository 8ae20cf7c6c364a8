export { isDpopBound } from './adapter/auth-headers.js'
export { authorizationHeader } from './adapter/authorization-header.js'
export {
  type AuthorizationServerMetadata,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './discovery/discovery.js'
export {
  discoverProtectedResource,
  type ProtectedResourceMetadata,
  type ProtectedResourceTarget,
  protectedResourceMetadataUrl,
} from './discovery/protected-resource.js'
export { resourceMetadataFromChallenges } from './discovery/resource-challenge.js'
// the DPoP helpers themselves (createDpop, createDpopProof, dpopNonceChallenge) are in @tokenwell/core/dpop
export type { Dpop, DpopOptions, DpopProofRequest, DpopSession } from './dpop/dpop.js'
export type { ClientAssertionMethod } from './endpoint/client-assertion-method.js'
export { basicCredentials } from './endpoint/client-auth.js'
export type { RevocationResult, RevokeOptions } from './endpoint/revocation.js'
export { buildTokenRequest, type TokenRequestContext } from './endpoint/token-request.js'
export {
  type ParseTokenResponseOptions,
  parseTokenResponse,
  type TokenEndpointResponse,
} from './endpoint/token-response.js'
export {
  AuthorizationError,
  ConfigError,
  DiscoveryError,
  DpopError,
  InsecureHttpError,
  isTokenwellError,
  OAuthError,
  StepUpError,
  TokenRequestError,
  TokenResponseError,
  TokenwellError,
  type TokenwellErrorCode,
} from './errors.js'
export {
  type AuthorizationResponse,
  type AuthorizationUrlOptions,
  buildAuthorizationUrl,
  createPkcePair,
  type PkcePair,
  parseAuthorizationResponse,
  randomUrlSafe,
} from './flows/authorization-code.js'
export {
  type DeviceAuthorization,
  type DeviceAuthorizationOptions,
  startDeviceAuthorization,
} from './flows/device-authorization.js'
export type {
  AuthorizationCodeGrant,
  ClientCredentialsGrant,
  DeviceCodeGrant,
  Grant,
  GrantType,
  JwtBearerGrant,
  PasswordGrant,
  RefreshTokenGrant,
  TokenExchangeGrant,
  ValueOrProvider,
} from './grants/grants.js'
export type { ClientAssertionOptions, PrivateKeyInput, SigningAlgorithm } from './jwt/keys.js'
export type {
  Logger,
  TokenEventListener,
  TokenEventName,
  TokenEvents,
  TokenKeyInfo,
} from './provider/events.js'
export type {
  ClientAuthMethod,
  FetchLike,
  ResolvedTokenProviderOptions,
  RetryOptions,
  TokenProviderOptions,
} from './provider/options.js'
export { createTokenProvider, type GetTokenOptions, type TokenProvider } from './provider/token-provider.js'
export { loadSecretScrubber, type SecretScrubber } from './redaction/scrub.js'
export {
  createMemoryTokenStore,
  isStoreEntry,
  type StoreEntry,
  type StoreLease,
  type TokenStore,
} from './store.js'
export { createToken, type Token, type TokenData } from './token.js'
