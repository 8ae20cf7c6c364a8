import type { AccessTokenClaims } from './access-token-verifier.js'
import { dpopStateOf, verifyDpopProof } from './dpop-proof.js'
import { OAuthFailure } from './oauth-response.js'

/** The DPoP challenge of a resource server. @see RFC 9449 §7.1 */
function dpopChallenge(
  realm: string,
  error: string,
  description: string,
  extra: Record<string, string> = {},
): Response {
  return Response.json(
    { error, error_description: description },
    {
      status: 401,
      headers: {
        'www-authenticate': `DPoP realm="${realm}", error="${error}", error_description="${description}", algs="ES256 ES384 ES512 RS256 PS256 EdDSA"`,
        'cache-control': 'no-store',
        ...extra,
      },
    },
  )
}

/**
 * Checks `Authorization: DPoP <token>` with its `DPoP` proof: the token must be valid and bound
 * (`cnf.jkt`) to the proof's key, the proof must match the request and the token (`ath`), and
 * carry the API's nonce when it wants one (else 401 `use_dpop_nonce` with `DPoP-Nonce`).
 * Returns the claims, a 401 `Response`, or `undefined` when the request does not use DPoP.
 * @see RFC 9449 §7, §9
 */
export async function dpopCredentials(
  request: Request,
  owner: object,
  options: {
    realm: string
    dpopNonce: boolean
    verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined>
  },
): Promise<AccessTokenClaims | Response | undefined> {
  const match = /^dpop +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(request.headers.get('authorization') ?? '')
  if (!match) return undefined
  const token = match[1]!
  const claims = await options.verifyAccessToken(token)
  if (claims?.cnf?.jkt === undefined) {
    return dpopChallenge(options.realm, 'invalid_token', 'the access token is invalid or not DPoP-bound')
  }
  try {
    const jkt = await verifyDpopProof(request, dpopStateOf(owner, options.dpopNonce), Date.now(), {
      accessToken: token,
      error: 'invalid_dpop_proof',
    })
    if (jkt !== claims.cnf.jkt)
      return dpopChallenge(options.realm, 'invalid_token', 'the proof key is not the token key')
  } catch (thrown) {
    if (!(thrown instanceof OAuthFailure)) throw thrown
    return dpopChallenge(
      options.realm,
      thrown.error,
      thrown.message,
      thrown.headers as Record<string, string>,
    )
  }
  return claims
}
