import { loadJose } from '../crypto/jose.js'
import type * as Errors from '../errors.js'
import type { SigningAlgorithm } from '../jwt/keys.js'
import type { DpopProofRequest } from './dpop-proof-request.js'

const EC_ALGORITHMS: Record<string, SigningAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

function algorithmOf(key: CryptoKey): SigningAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  const bits = algorithm.hash?.name.replace('SHA-', '') ?? '256'
  if (algorithm.name === 'ECDSA') return EC_ALGORITHMS[algorithm.namedCurve ?? ''] ?? 'ES256'
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  if (algorithm.name === 'RSA-PSS') return `PS${bits}` as SigningAlgorithm
  return `RS${bits}` as SigningAlgorithm
}

/** The URL a proof names: no query, no fragment. @see RFC 9449 §4.2 */
export function htuOf(url: string | URL): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * `createDpopProof()`, loaded on first use; `errors` are core's error classes (a module loaded
 * through `import()` imports none of core: see test/lazy-modules.test.ts).
 */
export async function signDpopProof(
  key: CryptoKeyPair,
  request: DpopProofRequest & { now: number },
  errors: Pick<typeof Errors, 'DpopError'>,
): Promise<string> {
  const jose = await loadJose()
  const alg = algorithmOf(key.privateKey)
  const { kty, crv, x, y, n, e } = await jose.exportJWK(key.publicKey)
  // only the public members: a private key exported by mistake must never travel
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined))
  const claims: Record<string, string> = { htm: request.method.toUpperCase(), htu: htuOf(request.url) }
  if (request.accessToken !== undefined) {
    // RFC 9449 §4.2: ath is base64url(SHA-256(ASCII access token))
    claims.ath = base64url(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(request.accessToken)),
    )
  }
  if (request.nonce !== undefined) claims.nonce = request.nonce
  try {
    return await new jose.SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
      .setIssuedAt(Math.floor(request.now / 1000))
      .setJti(crypto.randomUUID())
      .sign(key.privateKey)
  } catch (cause) {
    throw new errors.DpopError('the DPoP key could not sign a proof', { cause })
  }
}

/** The JWK SHA-256 thumbprint of `publicKey`. @see RFC 7638 */
export async function jwkThumbprint(publicKey: CryptoKey): Promise<string> {
  const jose = await loadJose()
  return jose.calculateJwkThumbprint(await jose.exportJWK(publicKey), 'sha256')
}
