import type { AccessTokenClaims } from './access-token-verifier.js'
import { clientCertificateOf } from './client-certificate.js'

/**
 * Whether a sender-constrained token may be used on `request`: a certificate-bound one
 * (`cnf.x5t#S256`) only over a TLS connection that presented that same certificate, a
 * DPoP-bound one (`cnf.jkt`) only with a DPoP proof (`viaDpop`, checked by the DPoP code).
 * An unbound token passes.
 * @see RFC 8705 §3, RFC 9449 §7
 */
export function senderConstraintHolds(
  claims: AccessTokenClaims,
  request: Request,
  viaDpop: boolean,
): boolean {
  const cnf = claims.cnf
  if (cnf === undefined) return true
  const x5t = cnf['x5t#S256']
  if (x5t !== undefined && clientCertificateOf(request)?.thumbprint !== x5t) return false
  return cnf.jkt === undefined || viaDpop
}
