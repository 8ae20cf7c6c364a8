import type { DpopSession } from '../dpop/dpop.js'
import { DpopError } from '../errors.js'
import type { Token } from '../token.js'
import { authorizationHeader } from './authorization-header.js'

/** The one request a set of credentials is for. */
export interface RequestTarget {
  /** The HTTP method, any case (a DPoP proof names it upper case). */
  method: string
  /** The request URL; a DPoP proof names it without query and fragment. */
  url: string | URL
}

/** The headers that authorize one request; names are lower case. */
export interface AuthHeaders {
  /** `Bearer <token>` or `DPoP <token>`. @see RFC 6750 §2.1, RFC 9449 §7.1 */
  authorization: string
  /** A fresh DPoP proof for this request alone, when the token is DPoP-bound. @see RFC 9449 §4, §7 */
  dpop?: string
}

/** Whether `token` is bound to a DPoP key (`token_type` DPoP): it only works with a proof. @see RFC 9449 §5 */
export function isDpopBound(token: Pick<Token, 'tokenType'>): boolean {
  return token.tokenType.toLowerCase() === 'dpop'
}

/**
 * The headers to set on `request` for `token`: `authorization` alone for a Bearer token; for a
 * DPoP-bound one also `dpop`, a new proof (new `jti`, `htm`/`htu` of this request, `ath` of the
 * token, and the nonce remembered for the URL's origin). Call it again for every send, retry and
 * redirect: a proof is good for one request. Rejects with `DpopError` when the token is
 * DPoP-bound but there is no DPoP session to prove it with, or the key cannot sign.
 * @see RFC 9449 §4.2, §7.1
 */
export async function authHeaders(
  token: Token,
  request: RequestTarget,
  dpop: DpopSession | undefined,
): Promise<AuthHeaders> {
  const authorization = authorizationHeader(token)
  if (!isDpopBound(token)) return { authorization }
  if (dpop === undefined) {
    throw new DpopError(
      'the token is DPoP-bound (token_type DPoP) but the provider has no DPoP key to prove it',
    )
  }
  const proof = await dpop.proof({ method: request.method, url: request.url, accessToken: token.accessToken })
  return { authorization, dpop: proof }
}
