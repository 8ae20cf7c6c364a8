import type { ClientAuthInput, ClientAuthMethodHandler } from './client-auth-types.js'
import { jwtClientAuth } from './jwt-client-auth.js'
import { OAuthFailure } from './oauth-response.js'
import type { ResolvedClient } from './options.js'
import { tlsClientAuth } from './tls-client-auth.js'

export type { ClientAuthInput, ClientAuthMethodHandler } from './client-auth-types.js'

/** RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function basicCredentials(authorization: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/=_-]+) *$/i.exec(authorization)
  if (!match) return undefined
  try {
    const bytes = Uint8Array.from(atob(match[1]!), (char) => char.charCodeAt(0))
    const pair = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    const colon = pair.indexOf(':')
    if (colon < 0) return undefined
    return { clientId: formDecode(pair.slice(0, colon)), clientSecret: formDecode(pair.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

const isBasic = (input: ClientAuthInput) => /^basic(?: |$)/i.test(input.authorization ?? '')

function registered(input: ClientAuthInput, clientId: string | null | undefined): ResolvedClient {
  const client = clientId ? input.clients.get(clientId) : undefined
  if (client === undefined) throw new OAuthFailure('invalid_client', 'unknown client')
  return client
}

function checkSecret(client: ResolvedClient, secret: string): void {
  if (client.clientSecret === undefined || client.clientSecret !== secret) {
    throw new OAuthFailure('invalid_client', 'client authentication failed')
  }
}

/** The client-authentication methods the mock server supports, by their RFC 8414 names. */
export const clientAuthMethods: Readonly<Record<string, ClientAuthMethodHandler>> = {
  client_secret_basic: {
    detect: isBasic,
    claimedClientId: (input) => basicCredentials(input.authorization ?? '')?.clientId,
    authenticate(input) {
      const credentials = basicCredentials(input.authorization ?? '')
      if (credentials === undefined) throw new OAuthFailure('invalid_client', 'malformed Basic credentials')
      const bodyId = input.params.get('client_id')
      if (bodyId !== null && bodyId !== credentials.clientId) {
        throw new OAuthFailure('invalid_request', 'client_id in the body differs from the Basic credentials')
      }
      const client = registered(input, credentials.clientId)
      checkSecret(client, credentials.clientSecret)
      return client
    },
  },
  client_secret_post: {
    detect: (input) => input.params.has('client_secret'),
    claimedClientId: (input) => input.params.get('client_id') ?? undefined,
    authenticate(input) {
      const client = registered(input, input.params.get('client_id'))
      checkSecret(client, input.params.get('client_secret') ?? '')
      return client
    },
  },
  // RFC 7523 §2.2: a JWT signed with a registered key, or with the client secret (HMAC)
  private_key_jwt: jwtClientAuth('private_key_jwt'),
  client_secret_jwt: jwtClientAuth('client_secret_jwt'),
  // RFC 8705 §2: the TLS client certificate, with client_id in the body
  tls_client_auth: tlsClientAuth('tls_client_auth'),
  self_signed_tls_client_auth: tlsClientAuth('self_signed_tls_client_auth'),
  // RFC 6749 §3.2.1: a public client only names itself
  none: {
    detect: (input) => input.params.has('client_id'),
    claimedClientId: (input) => input.params.get('client_id') ?? undefined,
    authenticate(input) {
      const client = registered(input, input.params.get('client_id'))
      if (client.clientSecret !== undefined && !client.authMethods.includes('none')) {
        throw new OAuthFailure('invalid_client', 'client authentication required')
      }
      return client
    },
  },
}

/** `none` matches any request with a `client_id`, so it only counts when no other method does. */
function detectMethods(input: ClientAuthInput): string[] {
  const used = Object.keys(clientAuthMethods).filter(
    (name) => name !== 'none' && clientAuthMethods[name]!.detect(input),
  )
  if (used.length === 0 && clientAuthMethods.none!.detect(input)) used.push('none')
  return used
}

/** The method a request uses and the client id it claims, whether or not it authenticates (for stats and logs). */
export function claimedClient(input: ClientAuthInput): {
  method: string | undefined
  clientId: string | undefined
} {
  const [method] = detectMethods(input)
  return {
    method,
    clientId: method === undefined ? undefined : clientAuthMethods[method]!.claimedClientId(input),
  }
}

/**
 * Authenticates the client of a token, introspection or revocation request with the one method it
 * uses, which must be among the client's `authMethods`.
 * @see RFC 6749 §2.3 (one method per request), §5.2 (`invalid_client`)
 */
export async function authenticateClient(
  input: ClientAuthInput,
): Promise<{ client: ResolvedClient; method: string }> {
  const used = detectMethods(input)
  // RFC 6749 §5.2: a client that tried Basic gets 401 with a Basic challenge; RFC 9110 §15.5.2 wants one on every 401
  const challenge = { 'www-authenticate': `Basic realm="${input.issuer}", charset="UTF-8"` }
  if (used.length > 1)
    throw new OAuthFailure(
      'invalid_request',
      `more than one client authentication method: ${used.join(', ')}`,
    )
  const method = used[0]
  try {
    if (method === undefined) throw new OAuthFailure('invalid_client', 'client authentication required')
    const client = await clientAuthMethods[method]!.authenticate(input)
    if (!client.authMethods.includes(method)) {
      throw new OAuthFailure('invalid_client', `client may not authenticate with ${method}`)
    }
    return { client, method }
  } catch (thrown) {
    if (thrown instanceof OAuthFailure && thrown.error === 'invalid_client') {
      throw new OAuthFailure(thrown.error, thrown.message, { headers: challenge })
    }
    throw thrown
  }
}
