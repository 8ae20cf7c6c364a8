import type { ClientAuthMethod } from '../provider/options.js'
import type { AuthorizationServerMetadata } from './metadata-types.js'

/** Whether `clientAuth` authenticates with a TLS client certificate. @see RFC 8705 §2 */
export function isTlsClientAuth(clientAuth: ClientAuthMethod): boolean {
  return clientAuth === 'tls_client_auth' || clientAuth === 'self_signed_tls_client_auth'
}

/**
 * The URL of endpoint `name` (`token_endpoint`, `revocation_endpoint`, …) a client that
 * authenticates with a TLS certificate should use: the server's `mtls_endpoint_aliases` entry when
 * it publishes one (the server may ask for certificates only on those hosts), else the plain one.
 * Other clients always get the plain one.
 * @see RFC 8705 §5
 */
export function endpointFor(
  metadata: AuthorizationServerMetadata,
  name: string,
  clientAuth: ClientAuthMethod,
): unknown {
  const aliases = metadata.mtls_endpoint_aliases
  if (isTlsClientAuth(clientAuth) && typeof aliases === 'object' && aliases !== null) {
    const alias = (aliases as Record<string, unknown>)[name]
    if (alias !== undefined) return alias
  }
  return metadata[name]
}
