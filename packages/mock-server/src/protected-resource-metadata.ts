import { DPOP_ALGORITHMS } from './dpop-proof.js'

/** Where RFC 9728 metadata lives on the protected API. @see RFC 9728 §3.1 */
export const RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource'

export interface ProtectedResourceMetadataOptions {
  /**
   * Issuers of the authorization servers the metadata names.
   * @default the `issuer` of `authServer`, when it has one
   */
  authorizationServers?: readonly string[]
  /** The resource identifier's path, which the 401 challenges' `resource_metadata` points at. @default '' (the origin) */
  resourcePath?: string
  /** 401 challenges carry `resource_metadata` (the URL of this resource's metadata). @default false @see RFC 9728 §5.1 */
  advertiseResourceMetadata?: boolean
  /** Members to add to (or override in) every metadata document, e.g. a wrong `resource` for a test. */
  resourceMetadata?: Record<string, unknown>
  /** The API is served over TLS and binds tokens to client certificates. @default false @see RFC 8705 §3 */
  certificateBoundTokens?: boolean
}

/** The URL of the metadata for the resource `origin` + `path`. */
export function resourceMetadataUrl(origin: string, path: string): string {
  return `${origin}${RESOURCE_METADATA_PREFIX}${path}`
}

/**
 * The metadata document for a request to `/.well-known/oauth-protected-resource[/path]`: the
 * resource is the API's origin plus that path (the query kept), so one API serves the metadata of
 * every resource under it; `undefined` for any other path.
 * @see RFC 9728 §2, §3.2
 */
export function protectedResourceMetadata(
  url: URL,
  options: ProtectedResourceMetadataOptions,
  authServer: { issuer?: string },
): Response | undefined {
  const { pathname } = url
  if (pathname !== RESOURCE_METADATA_PREFIX && !pathname.startsWith(`${RESOURCE_METADATA_PREFIX}/`))
    return undefined
  const path = pathname.slice(RESOURCE_METADATA_PREFIX.length)
  const servers = options.authorizationServers ?? (authServer.issuer !== undefined ? [authServer.issuer] : [])
  return Response.json(
    {
      resource: `${url.origin}${path === '' ? '/' : path}${url.search}`,
      authorization_servers: servers,
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
      ...(options.certificateBoundTokens === true && { tls_client_certificate_bound_access_tokens: true }),
      ...options.resourceMetadata,
    },
    { headers: { 'cache-control': 'public, max-age=60' } },
  )
}
