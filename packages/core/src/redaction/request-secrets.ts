import type { Grant } from '../grants/grants.js'
import { base64, decodeBase64, formDecode, formEncode } from './text-encodings.js'

/** Form parameters that carry a secret (RFC 6749 §2.3.1, §4.1.3, §4.3.2, §6, RFC 7636 §4.5, RFC 7523, RFC 8628 §3.4, RFC 8693 §2.1). */
const SECRET_PARAMS = [
  'client_secret',
  'client_assertion',
  'password',
  'refresh_token',
  'code',
  'code_verifier',
  'device_code',
  'assertion',
  'subject_token',
  'actor_token',
  // RFC 7009 §2.1 / RFC 7662 §2.1: the token being revoked or introspected
  'token',
]
/** Request headers that carry a secret: the client's credentials and the DPoP proof. */
const SECRET_HEADERS = ['authorization', 'dpop', 'proxy-authorization']

/** Fields of a `Grant` that hold a secret. */
const GRANT_SECRETS = [
  'password',
  'refreshToken',
  'code',
  'codeVerifier',
  'deviceCode',
  'assertion',
  'subjectToken',
  'actorToken',
]

/** The secrets a provider holds, sent or not (a server may know them without being sent them). */
export interface HeldSecrets {
  clientId?: string
  clientSecret?: string | undefined
  grant?: Grant
  /** The tokens the provider holds (access, refresh, ID token), which the server issued and may echo in any answer. */
  heldTokens?: (() => Iterable<string | undefined>) | undefined
}

/**
 * Every secret of a request: the credential headers (a Basic header decoded too), the secret
 * form parameters of `body`, and what the provider holds. Values as sent and as meant.
 */
export function secretsOf(headers: Headers | undefined, body: string, held: HeldSecrets): string[] {
  const secrets: string[] = []
  const pairs: [string, string][] = []
  for (const name of SECRET_HEADERS) {
    const value = headers?.get(name)
    if (!value) continue
    secrets.push(value)
    const [scheme, credentials = ''] = value.split(' ', 2)
    secrets.push(credentials)
    if (scheme?.toLowerCase() !== 'basic') continue
    const decoded = decodeBase64(credentials)
    const colon = decoded.indexOf(':')
    if (colon < 0) continue
    const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
    // RFC 6749 §2.3.1: both were form-encoded; a client that did not encode them meant them as is.
    // The id is no secret: pieces of it alone must not be scrubbed from the text
    secrets.push(secret, formDecode(secret))
    pairs.push([formDecode(id), formDecode(secret)], [id, secret])
  }
  const params = new URLSearchParams(body)
  for (const name of SECRET_PARAMS) secrets.push(...params.getAll(name))
  if (held.clientSecret !== undefined) {
    secrets.push(held.clientSecret)
    if (held.clientId !== undefined) pairs.push([held.clientId, held.clientSecret])
  }
  const grant = (held.grant ?? {}) as Record<string, unknown>
  for (const name of GRANT_SECRETS) {
    if (typeof grant[name] === 'string') secrets.push(grant[name])
  }
  for (const token of held.heldTokens?.() ?? []) if (token !== undefined) secrets.push(token)
  for (const [id, secret] of pairs) {
    // RFC 6749 §2.3.1 form-encodes both before base64; many clients and servers do not
    secrets.push(base64(`${formEncode(id)}:${formEncode(secret)}`), base64(`${id}:${secret}`))
  }
  return secrets
}
