import type { AccessTokenClaims } from './access-token-verifier.js'
import { base64url } from './requested-claims.js'

/** A `WWW-Authenticate: Bearer` challenge's parameters, `realm` aside. */
export type ChallengeParams = Record<string, string>

/** Answers with a challenge of `status` and `params` (the protected API's own builder). */
export type Challenge = (status: number, params: ChallengeParams) => Response

/**
 * The step-up routes of the protected API: each passes (`undefined`, the echo follows) when the
 * token satisfies what the query asks, and otherwise answers with the challenge a real resource
 * server would send:
 * - `/step-up/scope?scope=a b[&status=401]`: 403 (or 401) `insufficient_scope` + `scope` unless
 *   the token has every scope listed (RFC 6750 §3.1);
 * - `/step-up/claims?claim=NAME&value=V[&always=1][&encoding=base64]`: 401 `insufficient_claims` +
 *   `claims` (base64url JSON `{"access_token":{NAME:{"essential":true,"value":V}}}`, or padded
 *   base64 and Entra's `realm`/`authorization_uri` with `encoding=base64`) unless the token's claim
 *   NAME is V (`always`: whatever the token has, a server never satisfied). The token endpoint
 *   honours that JSON as its `claims` parameter (the Entra CAE flow);
 * - `/step-up/authentication?acr_values=a b&max_age=S`: 401 `insufficient_user_authentication` with
 *   those parameters unless the token's `acr` is listed and its `auth_time` is at most S seconds old
 *   (RFC 9470 §3).
 */
export function stepUpChallenge(
  path: string,
  url: URL,
  claims: AccessTokenClaims,
  challenge: Challenge,
  now: number,
): Response | undefined {
  const query = url.searchParams
  if (path === '/step-up/scope') {
    const wanted = (query.get('scope') ?? 'admin').split(' ').filter(Boolean)
    const granted = (claims.scope ?? '').split(' ')
    if (wanted.every((scope) => granted.includes(scope))) return undefined
    const status = query.get('status') === '401' ? 401 : 403
    return challenge(status, {
      error: 'insufficient_scope',
      error_description: 'the access token lacks a scope this route requires',
      scope: wanted.join(' '),
    })
  }
  if (path === '/step-up/claims') {
    const name = query.get('claim') ?? 'acrs'
    const value = query.get('value') ?? 'c1'
    if (String(claims[name]) === value && query.get('always') !== '1') return undefined
    const wanted = JSON.stringify({ access_token: { [name]: { essential: true, value } } })
    const entra = query.get('encoding') === 'base64'
    return challenge(401, {
      ...(entra && { authorization_uri: 'https://login.example.com/common/oauth2/authorize' }),
      error: 'insufficient_claims',
      error_description: 'the access token does not satisfy the claims this route requires',
      claims: entra ? btoa(String.fromCharCode(...new TextEncoder().encode(wanted))) : base64url(wanted),
    })
  }
  if (path === '/step-up/authentication') {
    const acrValues = query.get('acr_values')
    const maxAge = query.get('max_age')
    const acrOk = acrValues === null || acrValues.split(' ').includes(String(claims.acr))
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : undefined
    const ageOk = maxAge === null || (authTime !== undefined && now - authTime <= Number(maxAge) * 1000)
    if (acrOk && ageOk) return undefined
    return challenge(401, {
      error: 'insufficient_user_authentication',
      error_description: 'a stronger or more recent authentication is required',
      ...(acrValues !== null && { acr_values: acrValues }),
      ...(maxAge !== null && { max_age: maxAge }),
    })
  }
  return undefined
}

/** Paths `stepUpChallenge` answers for. */
export const STEP_UP_PATHS: readonly string[] = [
  '/step-up/scope',
  '/step-up/claims',
  '/step-up/authentication',
]
