import type { ClientAuthInput, ClientAuthMethodHandler } from './client-auth-types.js'
import { OAuthFailure } from './oauth-response.js'
import type { ResolvedClient } from './options.js'

/** base64url SHA-256 of a base64 DER certificate (an `x5c` entry). */
async function thumbprintOf(x5c: string): Promise<string | undefined> {
  try {
    const der = Uint8Array.from(atob(x5c), (char) => char.charCodeAt(0))
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', der))
    let binary = ''
    for (const byte of digest) binary += String.fromCharCode(byte)
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  } catch {
    return undefined
  }
}

/** DNs compared without spaces around `,` and `=`, attribute names case-insensitively. */
function normaliseDn(dn: string): string {
  return dn
    .split(',')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq < 0 ? part.trim() : `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`
    })
    .join(',')
}

function registeredFor(input: ClientAuthInput, method: string): ResolvedClient | undefined {
  const id = input.params.get('client_id')
  const client = id ? input.clients.get(id) : undefined
  return client?.authMethods.includes(method) ? client : undefined
}

/**
 * One of the two TLS client authentication methods: used by a request that came with a client
 * certificate, names a client registered for the method in `client_id`, and carries no other
 * credentials. `tls_client_auth` needs a chain the listener's CA verified and the registered
 * subject DN (`tlsClientAuthSubjectDn`); `self_signed_tls_client_auth` needs the certificate
 * among the client's `jwks` `x5c` entries.
 * @see RFC 8705 §2.1, §2.2
 */
export function tlsClientAuth(
  method: 'tls_client_auth' | 'self_signed_tls_client_auth',
): ClientAuthMethodHandler {
  return {
    detect: (input) =>
      input.clientCertificate !== undefined &&
      !input.params.has('client_secret') &&
      !input.params.has('client_assertion') &&
      !/^basic(?: |$)/i.test(input.authorization ?? '') &&
      registeredFor(input, method) !== undefined,
    claimedClientId: (input) => input.params.get('client_id') ?? undefined,
    async authenticate(input) {
      const client = registeredFor(input, method)
      const certificate = input.clientCertificate
      if (client === undefined || certificate === undefined)
        throw new OAuthFailure('invalid_client', 'client authentication failed')
      if (method === 'tls_client_auth') {
        const dn = client.tlsClientAuthSubjectDn
        if (
          !certificate.authorized ||
          dn === undefined ||
          normaliseDn(dn) !== normaliseDn(certificate.subject)
        )
          throw new OAuthFailure('invalid_client', 'the client certificate is not the registered one')
        return client
      }
      for (const key of client.jwks?.keys ?? []) {
        const [first] = ((key as { x5c?: unknown }).x5c as string[] | undefined) ?? []
        if (typeof first === 'string' && (await thumbprintOf(first)) === certificate.thumbprint) return client
      }
      throw new OAuthFailure('invalid_client', 'the client certificate is not the registered one')
    },
  }
}
