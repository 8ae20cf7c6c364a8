import type { JWTPayload } from 'jose'
import type { SigningKey } from './signing-key.js'
import type { TokenRegistry } from './token-registry.js'

/** The claims of a valid access token issued by the mock server. @see RFC 9068 §2.2 */
export interface AccessTokenClaims extends JWTPayload {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  jti: string
  client_id: string
  scope?: string
  /** The DPoP key (`jkt`, RFC 9449 §6) or TLS client certificate (`x5t#S256`, RFC 8705 §3.1) the token is bound to. */
  cnf?: { jkt?: string; 'x5t#S256'?: string }
}

interface VerifierOptions {
  key: SigningKey
  issuer: string
  registry: TokenRegistry
  clock: () => number
  /** Verified tokens kept; the oldest is dropped beyond this. @default 10_000 */
  maxEntries?: number
}

/**
 * Verifies access tokens: signature, issuer, expiry, and not revoked. The signature check runs once per
 * token string (concurrent callers share it); later calls only re-check expiry and revocation, so a
 * storm of requests with one token costs one ES256 verification.
 */
export function createAccessTokenVerifier(
  options: VerifierOptions,
): (token: string) => Promise<AccessTokenClaims | undefined> {
  const { key, issuer, registry, clock } = options
  const maxEntries = options.maxEntries ?? 10_000
  const verified = new Map<string, Promise<AccessTokenClaims | undefined>>()
  return async (token) => {
    if (typeof token !== 'string' || token === '') return undefined
    let pending = verified.get(token)
    if (pending === undefined) {
      pending = key.verify(token, issuer, clock()) as Promise<AccessTokenClaims | undefined>
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string)
      verified.set(token, pending)
      // a token that fails verification is not kept: garbage must not fill the cache
      void pending.then((claims) => {
        if (claims === undefined) verified.delete(token)
      })
    }
    const claims = await pending
    if (claims === undefined) return undefined
    if (claims.exp * 1000 <= clock()) {
      verified.delete(token)
      return undefined
    }
    const record = registry.accessToken(claims.jti)
    if (record === undefined || registry.isRevoked(record)) return undefined
    return claims
  }
}
