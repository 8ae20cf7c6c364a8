/** ES256 keys and JWTs with WebCrypto alone, so the integration tests need no JWT library. */
export async function generateEs256(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
}

export async function publicJwk(key: CryptoKeyPair, extra: Record<string, string> = {}): Promise<JsonWebKey> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', key.publicKey)
  return { kty, crv, x, y, ...extra } as JsonWebKey
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A compact ES256 JWS (WebCrypto's ECDSA signature is already the JWS r||s form). */
export async function signEs256(payload: Record<string, unknown>, key: CryptoKey): Promise<string> {
  const input = `${encode({ alg: 'ES256', typ: 'JWT' })}.${encode(payload)}`
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new TextEncoder().encode(input),
  )
  return `${input}.${Buffer.from(signature).toString('base64url')}`
}

/** The claims of a JWT, unverified. */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
}
