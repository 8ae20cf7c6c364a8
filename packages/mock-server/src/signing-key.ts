import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose'

/** The key pair an authorization server signs its access tokens with (one per server, never persisted). */
export interface SigningKey {
  readonly kid: string
  /** Signs `claims` as an RFC 9068 access token (`typ: at+jwt`). */
  sign(claims: JWTPayload): Promise<string>
  /** The payload when the signature, `iss` and `exp` (at `now`, epoch ms) check out; otherwise `undefined`. */
  verify(token: string, issuer: string, now: number): Promise<JWTPayload | undefined>
  /** The public key as a JWK Set. @see RFC 7517 §5 */
  jwks(): Promise<{ keys: JWK[] }>
}

/**
 * Generates an ES256 key pair lazily (the first use awaits it), so a server can be created synchronously.
 * @see RFC 7518 §3.4, RFC 9068 §2.1
 */
export function createSigningKey(): SigningKey {
  const kid = globalThis.crypto.randomUUID()
  let pair: ReturnType<typeof generateKeyPair> | undefined
  const keys = () => {
    pair ??= generateKeyPair('ES256', { extractable: true })
    return pair
  }
  let jwks: Promise<{ keys: JWK[] }> | undefined
  return {
    kid,
    async sign(claims) {
      const { privateKey } = await keys()
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey)
    },
    async verify(token, issuer, now) {
      const { publicKey } = await keys()
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          issuer,
          algorithms: ['ES256'],
          typ: 'at+jwt',
          currentDate: new Date(now),
          requiredClaims: ['exp', 'sub', 'jti'],
        })
        return payload
      } catch {
        return undefined
      }
    },
    jwks() {
      jwks ??= keys().then(async ({ publicKey }) => ({
        keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
      }))
      return jwks
    },
  }
}
