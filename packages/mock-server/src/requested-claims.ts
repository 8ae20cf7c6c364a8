import { OAuthFailure } from './oauth-response.js'

/** Claims a `claims` request may not set: they say who issued the token, to whom, and for how long. */
const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'cnf'])

/**
 * The access-token claims a token request's `claims` parameter asks for: each member of its
 * `access_token` object with a `value` (or the first of `values`) becomes that claim, so a
 * claims challenge (`insufficient_claims`) or a step-up challenge (`acr`, `auth_time`) can be
 * satisfied by asking again with `claims`. Malformed JSON, or a reserved claim, is `invalid_request`.
 * @see OpenID Connect Core 1.0 §5.5, RFC 9470 §3
 */
export function requestedClaims(params: URLSearchParams): Record<string, unknown> {
  const raw = params.get('claims')
  if (raw === null) return {}
  let request: unknown
  try {
    request = JSON.parse(raw)
  } catch {
    throw new OAuthFailure('invalid_request', 'claims must be a JSON object')
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new OAuthFailure('invalid_request', 'claims must be a JSON object')
  const wanted = (request as Record<string, unknown>).access_token
  if (wanted === undefined || wanted === null) return {}
  if (typeof wanted !== 'object' || Array.isArray(wanted))
    throw new OAuthFailure('invalid_request', 'claims.access_token must be an object')
  const claims: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(wanted as Record<string, unknown>)) {
    if (RESERVED.has(name)) throw new OAuthFailure('invalid_request', `claims may not set ${name}`)
    if (typeof spec !== 'object' || spec === null) continue
    const { value, values } = spec as { value?: unknown; values?: unknown }
    const chosen = value !== undefined ? value : Array.isArray(values) ? values[0] : undefined
    if (typeof chosen === 'string' || typeof chosen === 'number' || typeof chosen === 'boolean')
      claims[name] = chosen
  }
  return claims
}

/** base64url of UTF-8 text, without padding (how a claims challenge carries its JSON). */
export function base64url(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
