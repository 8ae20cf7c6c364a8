import type { FetchLike } from '../provider/fetch-like.js'

/** Authorization server metadata, as published. Only `issuer` and `token_endpoint` are required here. @see RFC 8414 §2 */
export interface AuthorizationServerMetadata {
  issuer: string
  token_endpoint: string
  authorization_endpoint?: string
  device_authorization_endpoint?: string
  jwks_uri?: string
  token_endpoint_auth_methods_supported?: string[]
  token_endpoint_auth_signing_alg_values_supported?: string[]
  code_challenge_methods_supported?: string[]
  grant_types_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  /** @see RFC 7009, RFC 8414 §2 */
  revocation_endpoint?: string
  /** Endpoints for clients that authenticate with a TLS certificate or want certificate-bound tokens. @see RFC 8705 §5 */
  mtls_endpoint_aliases?: Record<string, string>
  /** @see RFC 8705 §3.3 */
  tls_client_certificate_bound_access_tokens?: boolean
  [other: string]: unknown
}

export interface DiscoveryOptions {
  /** @default globalThis.fetch */
  fetch?: FetchLike
  /** Time limit of each metadata request, ms. @default 10_000 */
  timeout?: number
  /** Accept plain-http endpoints off loopback. @default false */
  allowInsecureHttp?: boolean
  signal?: AbortSignal
}
