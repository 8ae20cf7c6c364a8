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
} from './adapter/adapter-policy.js'
export { type AuthHeaders, isDpopBound, type RequestTarget } from './adapter/auth-headers.js'
export { authorizationHeader } from './adapter/authorization-header.js'
export { type Redirect, redirectTarget } from './adapter/redirect.js'
export type { ClientAssertionOptions, DpopOptions, PrivateKeyInput, SigningAlgorithm } from './crypto/keys.js'
export {
  type AuthorizationServerMetadata,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './discovery/discovery.js'
export {
  createDpopProof,
  type DpopProofRequest,
  type DpopSession,
  dpopNonceChallenge,
} from './dpop/dpop.js'
export { basicCredentials } from './endpoint/client-auth.js'
export {
  buildTokenRequest,
  type ParseTokenResponseOptions,
  parseTokenResponse,
  type TokenEndpointResponse,
  type TokenRequestContext,
} from './endpoint/token-request.js'
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
export type {
  Logger,
  TokenEventListener,
  TokenEventName,
  TokenEvents,
  TokenKeyInfo,
} from './provider/events.js'
export {
  type ClientAuthMethod,
  type FetchLike,
  isLoopback,
  type ResolvedTokenProviderOptions,
  type RetryOptions,
  type TokenProviderOptions,
} from './provider/options.js'
export { createTokenProvider, type GetTokenOptions, type TokenProvider } from './provider/token-provider.js'
export { createMemoryTokenStore, type StoreEntry, type StoreLease, type TokenStore } from './store.js'
export { createToken, type Token, type TokenData } from './token.js'
