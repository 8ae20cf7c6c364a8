import { ConfigError, DiscoveryError } from '../errors.js'
import { parseEndpoint } from '../provider/option-checks.js'
import type { AuthorizationServerMetadata, DiscoveryOptions } from './metadata-types.js'

export type { AuthorizationServerMetadata, DiscoveryOptions } from './metadata-types.js'

/**
 * Reads the authorization server's metadata for `issuer`: RFC 8414 first, then OpenID Connect
 * discovery. Throws `DiscoveryError` when neither answers with a JSON document, when the
 * document's `issuer` is not `issuer` (it could be an impostor's: nothing in it is used), or
 * when its `token_endpoint` is missing or not an acceptable URL.
 * @see RFC 8414 §3, §3.3
 * @example
 * const metadata = await discoverAuthorizationServer('https://login.example.com/realms/demo')
 * metadata.token_endpoint
 */
export async function discoverAuthorizationServer(
  issuer: string | URL,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const expected = typeof issuer === 'string' ? issuer.trim() : issuer.href
  const allowInsecureHttp = options.allowInsecureHttp === true
  try {
    parseEndpoint('issuer', expected, allowInsecureHttp)
  } catch (error) {
    if (error instanceof ConfigError) throw new DiscoveryError(error.message)
    throw error
  }
  // the fetching is loaded on first use: a provider with a tokenEndpoint never needs it
  const { fetchMetadata } = await import('./metadata.js')
  const document = await fetchMetadata(expected, options, { DiscoveryError })
  try {
    parseEndpoint('token_endpoint', document.token_endpoint, allowInsecureHttp)
  } catch (cause) {
    throw new DiscoveryError(`metadata of ${expected} has no usable token_endpoint`, { cause })
  }
  return document as AuthorizationServerMetadata
}
