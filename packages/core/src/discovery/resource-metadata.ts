import type * as Errors from '../errors.js'
import type { DiscoveryOptions } from './metadata-types.js'
import type { ProtectedResourceMetadata, ProtectedResourceTarget } from './protected-resource-types.js'

/**
 * What this lazily loaded module needs of core, handed in by `protected-resource.ts` (a module
 * loaded through `import()` imports none of core: see test/lazy-modules.test.ts).
 */
export interface ResourceMetadataDeps {
  errors: Pick<typeof Errors, 'ConfigError' | 'DiscoveryError'>
  parseEndpoint: (name: string, value: unknown, allowInsecureHttp: boolean) => URL
  metadataUrl: (resource: URL) => URL
}

/** Resource identifiers compared as parsed URLs (host case and an empty path do not matter). @see RFC 9728 §3.3 */
function sameResource(a: string | URL, b: string | URL): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return false
  }
}

/** The part of `discoverProtectedResource()` that is loaded on first use; see there. */
export async function readProtectedResource(
  target: ProtectedResourceTarget,
  options: DiscoveryOptions,
  deps: ResourceMetadataDeps,
): Promise<ProtectedResourceMetadata> {
  const { DiscoveryError, ConfigError } = deps.errors
  const insecure = options.allowInsecureHttp === true
  const checked = (name: string, value: unknown): URL => {
    try {
      return deps.parseEndpoint(name, value, insecure)
    } catch (error) {
      if (error instanceof ConfigError) throw new DiscoveryError(error.message)
      throw error
    }
  }
  const given = typeof target === 'string' || target instanceof URL ? { resource: target } : target
  if (typeof given !== 'object' || given === null)
    throw new DiscoveryError('a protected resource must be a URL or { resourceMetadata, resource? }')
  const resource = given.resource === undefined ? undefined : checked('resource', given.resource)
  const metadataUrl =
    'resourceMetadata' in given && given.resourceMetadata !== undefined
      ? checked('resource_metadata', given.resourceMetadata)
      : resource && deps.metadataUrl(resource)
  if (metadataUrl === undefined)
    throw new DiscoveryError('a protected resource needs resource or resourceMetadata')
  if (resource && metadataUrl.origin !== resource.origin) {
    throw new DiscoveryError(
      `resource metadata URL ${metadataUrl.origin} is on another origin than the resource ${resource.origin}; not reading it`,
    )
  }
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
    for (const server of servers) checked('authorization_servers entry', server)
  }
  return document as ProtectedResourceMetadata
}

/**
 * The authorization server to get tokens for `metadata`'s resource from: the one equal to
 * `issuer` when given (it must be listed), otherwise the first listed. Throws `DiscoveryError`.
 * @see RFC 9728 §2 (`authorization_servers`), §7.6
 */
export function chooseAuthorizationServer(
  metadata: ProtectedResourceMetadata,
  issuer: string | undefined,
  errors: Pick<typeof Errors, 'DiscoveryError'>,
): string {
  const servers = metadata.authorization_servers ?? []
  const trim = (value: string) => value.replace(/\/$/, '')
  if (issuer !== undefined) {
    if (!servers.some((server) => trim(server) === trim(issuer)))
      throw new errors.DiscoveryError(
        `the protected resource ${metadata.resource} does not name the configured issuer ${issuer} among its authorization servers`,
      )
    return issuer
  }
  const [first] = servers
  if (first === undefined)
    throw new errors.DiscoveryError(
      `the protected resource ${metadata.resource} names no authorization server`,
    )
  return first
}
