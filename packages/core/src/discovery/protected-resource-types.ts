import type { DiscoveryOptions } from './metadata-types.js'

/**
 * A protected resource's metadata, as published. Only `resource` is required; tokenwell uses
 * `authorization_servers` to find where tokens come from.
 * @see RFC 9728 §2
 */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers?: string[]
  jwks_uri?: string
  scopes_supported?: string[]
  bearer_methods_supported?: string[]
  resource_name?: string
  resource_documentation?: string
  tls_client_certificate_bound_access_tokens?: boolean
  dpop_bound_access_tokens_required?: boolean
  [other: string]: unknown
}

/**
 * Where to read a protected resource's metadata: its resource identifier (the well-known URL is
 * derived from it), or a `resource_metadata` URL a 401 challenge named. With `resourceMetadata`,
 * `resource` (when given) is the identifier the document must name; the URL must be on the
 * resource's origin either way.
 * @see RFC 9728 §3.1, §5.1
 */
export type ProtectedResourceTarget =
  | string
  | URL
  | { resource?: string | URL | undefined; resourceMetadata: string | URL }

export type { DiscoveryOptions }
