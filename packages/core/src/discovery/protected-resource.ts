import { ConfigError, DiscoveryError } from '../errors.js'
import { parseEndpoint } from '../provider/options.js'
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

/** Resource identifiers compared as parsed URLs (host case and an empty path do not matter). @see RFC 9728 §3.3 */
export function sameResource(a: string | URL, b: string | URL): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return false
  }
}

function checked(name: string, value: unknown, allowInsecureHttp: boolean): URL {
  try {
    return parseEndpoint(name, value, allowInsecureHttp)
  } catch (error) {
    if (error instanceof ConfigError) throw new DiscoveryError(error.message)
    throw error
  }
}

/**
 * Reads a protected resource's metadata. `target` is the resource identifier (its well-known URL
 * is read), or `{ resourceMetadata, resource? }` with a URL from a 401 challenge's
 * `resource_metadata` parameter. Throws `DiscoveryError` when the document cannot be read, when
 * its `resource` is not the expected one (it could be an impostor's: nothing in it is used), when
 * a metadata URL is on another origin than the resource (a challenge must not send the client to
 * a server of an attacker's choosing), or when `authorization_servers` is not a list of URLs.
 * @see RFC 9728 §3, §3.3, §5.1, §7.3
 * @example
 * const metadata = await discoverProtectedResource('https://api.example.com/mcp')
 * metadata.authorization_servers // ['https://login.example.com']
 */
export async function discoverProtectedResource(
  target: ProtectedResourceTarget,
  options: DiscoveryOptions = {},
): Promise<ProtectedResourceMetadata> {
  const insecure = options.allowInsecureHttp === true
  const given = typeof target === 'string' || target instanceof URL ? { resource: target } : target
  if (typeof given !== 'object' || given === null)
    throw new DiscoveryError('a protected resource must be a URL or { resourceMetadata, resource? }')
  const resource = given.resource === undefined ? undefined : checked('resource', given.resource, insecure)
  const metadataUrl =
    'resourceMetadata' in given && given.resourceMetadata !== undefined
      ? checked('resource_metadata', given.resourceMetadata, insecure)
      : protectedResourceMetadataUrl(resource as URL)
  if (resource && metadataUrl.origin !== resource.origin) {
    throw new DiscoveryError(
      `resource metadata URL ${metadataUrl.origin} is on another origin than the resource ${resource.origin}; not reading it`,
    )
  }
  // the fetching is loaded on first use: a provider with a tokenEndpoint never needs it
  const { fetchDocument } = await import('./metadata.js')
  const document = await fetchDocument(metadataUrl, options, { DiscoveryError })
  const named = document.resource
  if (typeof named !== 'string' || !URL.canParse(named)) {
    throw new DiscoveryError(`resource metadata at ${metadataUrl.href} has no resource identifier`)
  }
  if (resource ? !sameResource(named, resource) : new URL(named).origin !== metadataUrl.origin) {
    throw new DiscoveryError(
      `resource metadata at ${metadataUrl.href} names another resource than ${resource?.href ?? `one on ${metadataUrl.origin}`}; not using it (RFC 9728 §3.3)`,
    )
  }
  const servers = document.authorization_servers
  if (servers !== undefined) {
    if (!Array.isArray(servers))
      throw new DiscoveryError(
        `resource metadata at ${metadataUrl.href} has a malformed authorization_servers`,
      )
    for (const server of servers) checked('authorization_servers entry', server, insecure)
  }
  return document as ProtectedResourceMetadata
}

/**
 * The authorization server to get tokens for `metadata`'s resource from: the one equal to
 * `issuer` when given (it must be listed), otherwise the first listed. Throws `DiscoveryError`.
 * @see RFC 9728 §2 (`authorization_servers`), §7.6
 */
export function chooseAuthorizationServer(metadata: ProtectedResourceMetadata, issuer?: string): string {
  const servers = metadata.authorization_servers ?? []
  const trim = (value: string) => value.replace(/\/$/, '')
  if (issuer !== undefined) {
    const match = servers.find((server) => trim(server) === trim(issuer))
    if (match === undefined)
      throw new DiscoveryError(
        `the protected resource ${metadata.resource} does not name the configured issuer ${issuer} among its authorization servers`,
      )
    return issuer
  }
  const [first] = servers
  if (first === undefined)
    throw new DiscoveryError(`the protected resource ${metadata.resource} names no authorization server`)
  return first
}

/**
 * The issuer of the authorization server that serves `resource`: its metadata is read and
 * checked, then one of its `authorization_servers` chosen (see `chooseAuthorizationServer`).
 * @see RFC 9728 §3, §7.6
 */
export async function discoverResourceIssuer(
  resource: string,
  issuer: string | undefined,
  options: DiscoveryOptions,
): Promise<string> {
  return chooseAuthorizationServer(await discoverProtectedResource(resource, options), issuer)
}
