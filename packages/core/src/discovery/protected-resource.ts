import { ConfigError, DiscoveryError } from '../errors.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type { DiscoveryOptions } from './metadata-types.js'
import type { ProtectedResourceMetadata, ProtectedResourceTarget } from './protected-resource-types.js'

export type { ProtectedResourceMetadata, ProtectedResourceTarget } from './protected-resource-types.js'

/**
 * The well-known URL of a resource's metadata: `/.well-known/oauth-protected-resource` inserted
 * between the host and the resource's path (a path of `/` adds nothing), the query kept.
 * @see RFC 9728 §3.1
 * @example
 * protectedResourceMetadataUrl('https://api.example.com/mcp')
 * // → https://api.example.com/.well-known/oauth-protected-resource/mcp
 */
export function protectedResourceMetadataUrl(resource: string | URL): URL {
  const url = new URL(resource)
  const path = url.pathname === '/' ? '' : url.pathname
  return new URL(`/.well-known/oauth-protected-resource${path}${url.search}`, url.origin)
}

const deps = () => ({
  errors: { ConfigError, DiscoveryError },
  parseEndpoint,
  metadataUrl: protectedResourceMetadataUrl,
})

/**
 * Reads a protected resource's metadata. `target` is the resource identifier (its well-known URL
 * is read), or `{ resourceMetadata, resource? }` with a URL from a 401 challenge's
 * `resource_metadata` parameter. Throws `DiscoveryError` when the document cannot be read, when
 * its `resource` is not the expected one (it could be an impostor's: nothing in it is used), when
 * a metadata URL is on another origin than the resource (a challenge must not send the client to
 * a server of an attacker's choosing; without `resource`, the document must name a resource on
 * the metadata URL's origin), or when `authorization_servers` is not a list of URLs. The checks
 * and the request are loaded on first use.
 * @see RFC 9728 §3, §3.3, §5.1, §7.3
 * @example
 * const metadata = await discoverProtectedResource('https://api.example.com/mcp')
 * metadata.authorization_servers // ['https://login.example.com']
 */
export async function discoverProtectedResource(
  target: ProtectedResourceTarget,
  options: DiscoveryOptions = {},
): Promise<ProtectedResourceMetadata> {
  const { readProtectedResource } = await import('./resource-metadata.js')
  return readProtectedResource(target, options, deps())
}

/**
 * The issuer of the authorization server that serves `resource`: its metadata is read and
 * checked, then the listed server equal to `issuer` (when given) or the first one is chosen.
 * Throws `DiscoveryError`.
 * @see RFC 9728 §3, §7.6
 */
export async function discoverResourceIssuer(
  resource: string,
  issuer: string | undefined,
  options: DiscoveryOptions,
): Promise<string> {
  const { readProtectedResource, chooseAuthorizationServer } = await import('./resource-metadata.js')
  const metadata = await readProtectedResource(resource, options, deps())
  return chooseAuthorizationServer(metadata, issuer, { DiscoveryError })
}
