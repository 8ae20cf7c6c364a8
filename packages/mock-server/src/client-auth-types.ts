import type { ClientCertificate } from './client-certificate.js'
import type { ResolvedClient } from './options.js'

/** What a client-authentication method may look at. */
export interface ClientAuthInput {
  /** The request's `Authorization` header, if any. */
  readonly authorization: string | null
  readonly params: URLSearchParams
  readonly clients: ReadonlyMap<string, ResolvedClient>
  /** The endpoint being called (the audience of a client assertion). */
  readonly endpoint: string
  readonly issuer: string
  /** Epoch ms. */
  readonly now: number
  /** The TLS client certificate the request came with, if any. @see RFC 8705 §2 */
  readonly clientCertificate?: ClientCertificate | undefined
}

/**
 * One token-endpoint authentication method. To add one (e.g. `private_key_jwt`), add an entry to
 * `clientAuthMethods`: `detect` says whether a request uses it, `authenticate` returns the client or
 * throws `OAuthFailure('invalid_client', …)`.
 * @see RFC 6749 §2.3, RFC 8414 §2 (`token_endpoint_auth_methods_supported`)
 */
export interface ClientAuthMethodHandler {
  detect(input: ClientAuthInput): boolean
  /** The id the request claims, before it is verified (for stats and logs). */
  claimedClientId(input: ClientAuthInput): string | undefined
  authenticate(input: ClientAuthInput): ResolvedClient | Promise<ResolvedClient>
}
