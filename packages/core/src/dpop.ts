import { DpopError } from './errors.js'
import { loadJose } from './jose.js'
import type { DpopOptions, SigningAlgorithm } from './keys.js'

/** What a DPoP proof is for: one HTTP request. */
export interface DpopProofRequest {
  /** The request's method (`htm`), any case. */
  method: string
  /** The request's URL; the proof's `htu` is it without query and fragment. */
  url: string | URL
  /** The access token the request carries, for the `ath` claim (resource requests only). */
  accessToken?: string
  /**
   * The server's nonce (`nonce` claim). @default the last `DPoP-Nonce` remembered for the URL's origin
   */
  nonce?: string
}

/**
 * A provider's DPoP key and nonces. Adapters use it for API requests:
 *
 * 1. For a token whose `tokenType` is `DPoP`, send `Authorization: DPoP <accessToken>` and
 *    `DPoP: await dpop.proof({ method, url, accessToken })` (a new proof per request and per retry).
 * 2. After every response, call `dpop.rememberNonce(url, response.headers)`.
 * 3. When `dpopNonceChallenge(response)` returns a nonce (a 401 with
 *    `WWW-Authenticate: DPoP error="use_dpop_nonce"`), replay the request once with a new proof:
 *    it picks up the remembered nonce. A second demand goes back to the caller as is (no loop).
 *
 * @see RFC 9449 §4, §7, §8, §9
 */
export interface DpopSession {
  /**
   * A DPoP proof JWT (`typ: dpop+jwt`, the public key as `jwk`) for one request, with `htm`,
   * `htu`, `iat`, a unique `jti`, `ath` when `accessToken` is given, and `nonce` when one is
   * given or remembered for the URL's origin. Rejects with `DpopError` if the key cannot sign.
   */
  proof(request: DpopProofRequest): Promise<string>
  /**
   * Keeps the `DPoP-Nonce` a server sent (pass its response headers, or the nonce itself) for
   * the URL's origin; later proofs to that origin carry it. Ignores headers without one.
   */
  rememberNonce(url: string | URL, nonce: Headers | string | null | undefined): void
  /** The nonce remembered for the URL's origin, if any. */
  nonceFor(url: string | URL): string | undefined
  /** The JWK SHA-256 thumbprint of the public key: what the server binds tokens to (`cnf.jkt`). @see RFC 7638 */
  thumbprint(): Promise<string>
}

const DPOP_ALGORITHMS: Record<string, SigningAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

function algorithmOf(key: CryptoKey): SigningAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  const bits = algorithm.hash?.name.replace('SHA-', '') ?? '256'
  if (algorithm.name === 'ECDSA') return DPOP_ALGORITHMS[algorithm.namedCurve ?? ''] ?? 'ES256'
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
 * Builds one DPoP proof with `key` (no state: nonce bookkeeping is `DpopSession`'s).
 * @see RFC 9449 §4.2
 * @example
 * const proof = await createDpopProof(keyPair, { method: 'GET', url, accessToken, now: Date.now() })
 */
export async function createDpopProof(
  key: CryptoKeyPair,
  request: DpopProofRequest & { now: number },
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
    throw new DpopError('the DPoP key could not sign a proof', { cause })
  }
}

/**
 * A DPoP session for one provider: `options.key`, or an ES256 key pair generated on first use
 * (WebCrypto; its private half is not extractable).
 */
export function createDpopSession(options: DpopOptions, clock: () => number): DpopSession {
  let keyPair: Promise<CryptoKeyPair> | undefined
  const key = () =>
    (keyPair ??= options.key
      ? Promise.resolve(options.key)
      : (crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
          'sign',
          'verify',
        ]) as Promise<CryptoKeyPair>))
  let thumbprint: Promise<string> | undefined
  const nonces = new Map<string, string>()
  const session: DpopSession = {
    async proof(request) {
      const nonce = request.nonce ?? session.nonceFor(request.url)
      return createDpopProof(await key(), { ...request, now: clock(), ...(nonce !== undefined && { nonce }) })
    },
    rememberNonce(url, value) {
      const nonce = typeof value === 'string' ? value : value?.get('dpop-nonce')
      // RFC 9449 §8.1: a nonce is an ASCII NQCHAR string
      if (nonce && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(nonce)) nonces.set(new URL(url).origin, nonce)
    },
    nonceFor(url) {
      return nonces.get(new URL(url).origin)
    },
    thumbprint() {
      thumbprint ??= (async () => {
        const jose = await loadJose()
        return jose.calculateJwkThumbprint(await jose.exportJWK((await key()).publicKey), 'sha256')
      })()
      return thumbprint
    },
  }
  return Object.freeze(session)
}

/**
 * The nonce a resource server demands: for a 401 whose `WWW-Authenticate` has a `DPoP`
 * challenge with `error="use_dpop_nonce"`, the value of its `DPoP-Nonce` header; else `undefined`.
 * @see RFC 9449 §9
 */
export function dpopNonceChallenge(response: { status: number; headers: Headers }): string | undefined {
  if (response.status !== 401) return undefined
  const challenge = response.headers.get('www-authenticate') ?? ''
  if (!/(^|,)\s*DPoP\b[\s\S]*\berror\s*=\s*"?use_dpop_nonce"?/i.test(challenge)) return undefined
  return response.headers.get('dpop-nonce') ?? undefined
}
