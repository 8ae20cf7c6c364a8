export {
  type AuthChallenge,
  type AuthPolicy,
  type AuthPolicyOptions,
  type AuthResponse,
  assertSecureTransport,
  compileMatch,
  createAuthPolicy,
  type HeaderValue,
  isReplayableBody,
  parseWwwAuthenticate,
  type ReplayDecision,
  type RequestMatch,
  type ResponseHeaders,
  shouldAuthorize,
  shouldReplay,
  type TokenWait,
  type UrlMatcher,
} from './adapter-policy.js'
export { type AuthHeaders, isDpopBound, type RequestTarget } from './auth-headers.js'
export {
  type AuthorizationResponse,
  type AuthorizationUrlOptions,
  buildAuthorizationUrl,
  createPkcePair,
  type PkcePair,
  parseAuthorizationResponse,
  randomUrlSafe,
} from './authorization-code.js'
export { authorizationHeader } from './authorization-header.js'
export { basicCredentials } from './client-auth.js'
export {
  type DeviceAuthorization,
  type DeviceAuthorizationOptions,
  startDeviceAuthorization,
} from './device-authorization.js'
export {
  type AuthorizationServerMetadata,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './discovery.js'
export {
  createDpopProof,
  type DpopProofRequest,
  type DpopSession,
  dpopNonceChallenge,
} from './dpop.js'
export {
  AuthorizationError,
  ConfigError,
  DiscoveryError,
  DpopError,
  InsecureHttpError,
  isTokenwellError,
  OAuthError,
  TokenRequestError,
  TokenResponseError,
  TokenwellError,
  type TokenwellErrorCode,
} from './errors.js'
export type { Logger, TokenEventListener, TokenEventName, TokenEvents, TokenKeyInfo } from './events.js'
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
} from './grants.js'
export type { ClientAssertionOptions, DpopOptions, PrivateKeyInput, SigningAlgorithm } from './keys.js'
export {
  type ClientAuthMethod,
  type FetchLike,
  isLoopback,
  type ResolvedTokenProviderOptions,
  type RetryOptions,
  type TokenProviderOptions,
} from './options.js'
export { type Redirect, redirectTarget } from './redirect.js'
export { createMemoryTokenStore, type StoreEntry, type TokenStore } from './store.js'
export { createToken, type Token, type TokenData } from './token.js'
export { createTokenProvider, type GetTokenOptions, type TokenProvider } from './token-provider.js'
export {
  buildTokenRequest,
  type ParseTokenResponseOptions,
  parseTokenResponse,
  type TokenEndpointResponse,
  type TokenRequestContext,
} from './token-request.js'
