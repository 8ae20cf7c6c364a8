import { StepUpError } from '../errors.js'
import type { CallParams } from '../provider/call-tokens.js'
import type { TokenKeyInfo } from '../provider/events.js'
import { holdsSecret } from './scrub.js'
import { type HeaderValue, parseWwwAuthenticate } from './www-authenticate.js'

/**
 * What a resource server's challenge asks of the client, once checked:
 * - `authentication`: a new user authentication (RFC 9470), with its `acr_values` / `max_age`;
 * - `claims`: a token with these claims (the decoded JSON text of a claims challenge);
 * - `scope`: a token with these scopes as well (RFC 6750 §3.1 `insufficient_scope`).
 */
export type ResourceChallenge =
  | { readonly kind: 'authentication'; readonly acrValues?: string; readonly maxAge?: number }
  | { readonly kind: 'claims'; readonly claims: string }
  | { readonly kind: 'scope'; readonly scope: readonly string[] }

// RFC 6749 §3.3 scope-token; RFC 9470 reuses it for acr values (OpenID Connect `acr_values`)
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
/** Most scopes, and characters of `scope` / `acr_values` / `claims`, a challenge may carry. */
const MAX_SCOPES = 32
const MAX_LIST = 2_048
const MAX_CLAIMS = 16_384

/**
 * The challenge of a 401 or 403 response that asks for more than a renewed token, or
 * `undefined`. Only `Bearer` and `DPoP` challenges count; of several, a new user authentication
 * wins over claims, claims over scope. A parameter that is malformed, too long or not of the
 * RFC's syntax makes its challenge count as absent (the response then goes to the caller), and
 * never throws: `acr_values` and `max_age` that do not parse are left out of the result.
 * @see RFC 6750 §3.1, RFC 9470 §3, OpenID Connect Core 1.0 §5.5 (claims)
 */
export function readChallenge(status: number, wwwAuthenticate: HeaderValue): ResourceChallenge | undefined {
  if (status !== 401 && status !== 403) return undefined
  let claims: ResourceChallenge | undefined
  let scope: ResourceChallenge | undefined
  for (const { scheme, params } of parseWwwAuthenticate(wwwAuthenticate)) {
    if (scheme !== 'bearer' && scheme !== 'dpop') continue
    const error = params['error']
    if (error === 'insufficient_user_authentication') {
      const acrValues = list(params['acr_values'])
      const age = params['max_age']
      const maxAge = age !== undefined && /^\d{1,10}$/.test(age) ? Number(age) : undefined
      return Object.freeze({
        kind: 'authentication',
        ...(acrValues !== undefined && { acrValues: acrValues.join(' ') }),
        ...(maxAge !== undefined && { maxAge }),
      })
    }
    if (error === 'insufficient_claims' && claims === undefined) {
      const decoded = decodeClaims(params['claims'])
      if (decoded !== undefined) claims = Object.freeze({ kind: 'claims', claims: decoded })
    }
    if (error === 'insufficient_scope' && scope === undefined) {
      const scopes = list(params['scope'])
      if (scopes !== undefined) scope = Object.freeze({ kind: 'scope', scope: Object.freeze(scopes) })
    }
  }
  return claims ?? scope
}

/** Grants that redeem a code or refresh token once: no per-call scope or claims (`getToken`). */
const ONCE_ONLY = new Set([
  'refresh_token',
  'authorization_code',
  'urn:ietf:params:oauth:grant-type:device_code',
])

/**
 * What to ask for to meet `challenge`, for a request whose token was asked for with `had` (or
 * the provider's own parameters, `key`): the challenge's claims, or its scope with the scopes
 * the token was asked for; `undefined` when that asks for nothing more, or the grant cannot be
 * run again for per-call parameters (a refresh token is redeemed once), or the scope holds one
 * of `tokens` (in any form, or a piece of one): a scope is no secret, it goes into the `token`
 * event and the telemetry made from it (rule 5).
 */
export function callFor(
  challenge: ResourceChallenge,
  had: CallParams | undefined,
  key: TokenKeyInfo | undefined,
  tokens: Iterable<string>,
): CallParams | undefined {
  if (ONCE_ONLY.has(key?.grantType ?? '')) return undefined
  if (challenge.kind === 'claims') return { ...had, claims: challenge.claims }
  if (challenge.kind !== 'scope' || holdsSecret(challenge.scope.join(' '), tokens)) return undefined
  const scopes = (had?.scope ?? key?.scope ?? '').split(' ').filter(Boolean)
  const union = new Set([...scopes, ...challenge.scope])
  if (union.size === new Set(scopes).size) return undefined // the token was asked for all of them
  return { ...had, scope: [...union].sort().join(' ') }
}

/** RFC 9470's error: the challenge's parameters, without any that carries one of `tokens` (in any form, or a piece of one). */
export function stepUpError(
  status: number,
  challenge: ResourceChallenge & { kind: 'authentication' },
  tokens: Iterable<string>,
): StepUpError {
  const { acrValues, maxAge } = challenge
  const clean = acrValues !== undefined && !holdsSecret(acrValues, tokens)
  return new StepUpError(status, {
    ...(clean && { acrValues }),
    ...(maxAge !== undefined && { maxAge }),
  })
}

/** A space-delimited list of scope-tokens, or `undefined` when empty, too long or malformed. */
function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.length > MAX_LIST) return undefined
  const items = value.split(' ').filter((item) => item !== '')
  if (items.length === 0 || items.length > MAX_SCOPES) return undefined
  return items.every((item) => SCOPE_TOKEN.test(item)) ? [...new Set(items)] : undefined
}

/**
 * The JSON text of a claims challenge's `claims`: base64url as Entra documents it, or base64
 * (with or without padding) as Entra sends it; `undefined` unless it decodes to a JSON object.
 */
export function decodeClaims(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_CLAIMS || !BASE64.test(value)) return undefined
  const plain = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
  if (plain.length % 4 === 1) return undefined
  try {
    const binary = atob(plain.padEnd(Math.ceil(plain.length / 4) * 4, '='))
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? text : undefined
  } catch {
    return undefined
  }
}
