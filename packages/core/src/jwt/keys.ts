import { ConfigError } from '../errors.js'
import { printable } from '../redact.js'

/**
 * A private key: a private JWK (an object with `d`), a PKCS#8 PEM string
 * (`-----BEGIN PRIVATE KEY-----`; convert PKCS#1 or SEC1 with `openssl pkcs8 -topk8 -nocrypt`)
 * or a WebCrypto `CryptoKey` of type `private`.
 */
export type PrivateKeyInput = JsonWebKey | string | CryptoKey

/** JWS algorithms tokenwell signs with. @see RFC 7518 §3.1, RFC 8037 §3.1 */
export type SigningAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'HS256'
  | 'HS384'
  | 'HS512'

/** How client assertions are signed and what they claim. @see RFC 7523 §3 */
export interface ClientAssertionOptions {
  /**
   * The JWS algorithm. `client_secret_jwt` takes HS256/384/512; `private_key_jwt` takes the one
   * that fits the key (RSA keys may also use PS256/384/512). Resolved options always hold it for
   * `private_key_jwt`.
   * @default the JWK's `alg`, else RS256 for RSA, ES256/384/512 by EC curve, EdDSA for Ed25519, HS256 for a secret
   */
  algorithm?: SigningAlgorithm
  /** The `kid` header, naming the key among those the server holds for the client. @default the JWK's `kid` */
  keyId?: string
  /** The `aud` claim. @default the token endpoint URL (RFC 7523 §3 item 3) */
  audience?: string
  /** Lifetime of one assertion, ms (`exp` − `iat`). @default 60_000 */
  lifetime?: number
}

const RSA_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const ASYMMETRIC: readonly SigningAlgorithm[] = [...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', 'EdDSA']
const HMAC: readonly SigningAlgorithm[] = ['HS256', 'HS384', 'HS512']
const EC_ALGORITHMS: Record<string, SigningAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

/** A key family: which algorithms a key can sign with; the first is used when none is chosen. */
export interface KeyFamily {
  name: string
  algorithms: readonly SigningAlgorithm[]
}
const RSA: KeyFamily = { name: 'RSA', algorithms: RSA_ALGORITHMS }
const RSA_PSS: KeyFamily = { name: 'RSA-PSS', algorithms: RSA_ALGORITHMS.slice(3) }
const ED25519: KeyFamily = { name: 'Ed25519', algorithms: ['EdDSA'] }
const ec = (curve: string): KeyFamily => {
  const alg = EC_ALGORITHMS[curve]
  if (!alg)
    throw new ConfigError(
      `privateKey uses the unsupported EC curve "${printable(curve, 40)}" (use P-256, P-384 or P-521)`,
    )
  return { name: `EC ${curve}`, algorithms: [alg] }
}

/**
 * Checks the signing options of `privateKeyJwt()` / `clientSecretJwt()` against `clientAuth`;
 * for `private_key_jwt` the algorithm is then filled in from the key. `extra` names the options
 * the factory takes besides these (`privateKey`).
 */
export function validateClientAssertion(
  input: ClientAssertionOptions | undefined,
  clientAuth: 'private_key_jwt' | 'client_secret_jwt',
  extra: readonly string[] = [],
): ClientAssertionOptions {
  if (input === undefined)
    return Object.freeze(clientAuth === 'client_secret_jwt' ? { algorithm: 'HS256' as const } : {})
  if (typeof input !== 'object' || input === null)
    throw new ConfigError(`${clientAuth} options must be an object`)
  for (const key of Object.keys(input)) {
    if (![...extra, 'algorithm', 'keyId', 'audience', 'lifetime'].includes(key))
      throw new ConfigError(`unknown option "${key.slice(0, 40)}" of ${clientAuth}`)
  }
  const { algorithm, keyId, audience, lifetime } = input
  if (clientAuth === 'client_secret_jwt' && algorithm !== undefined && !HMAC.includes(algorithm)) {
    throw new ConfigError(`algorithm must be one of ${HMAC.join(', ')} for client_secret_jwt`)
  }
  if (clientAuth === 'private_key_jwt' && algorithm !== undefined && !ASYMMETRIC.includes(algorithm)) {
    throw new ConfigError(`algorithm must be one of ${ASYMMETRIC.join(', ')} for private_key_jwt`)
  }
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId === ''))
    throw new ConfigError('keyId must be a non-empty string')
  if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
    throw new ConfigError('audience must be a non-empty string')
  }
  if (
    lifetime !== undefined &&
    (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime < 1_000)
  ) {
    throw new ConfigError('lifetime must be a number of milliseconds ≥ 1000')
  }
  return Object.freeze({
    ...(algorithm !== undefined
      ? { algorithm }
      : clientAuth === 'client_secret_jwt'
        ? { algorithm: 'HS256' as const }
        : {}),
    ...(keyId !== undefined && { keyId }),
    ...(audience !== undefined && { audience }),
    ...(lifetime !== undefined && { lifetime }),
  })
}

/**
 * Checks that `key` is a usable private key and fits `algorithm` (no I/O: the key is imported
 * on first use), and returns the algorithm to sign with: the chosen one, else the JWK's own
 * `alg`, else the key family's default. Messages name the problem, never the key.
 */
export function validatePrivateKey(key: unknown, algorithm: SigningAlgorithm | undefined): SigningAlgorithm {
  const family = familyOf(key)
  if (algorithm !== undefined && !family.algorithms.includes(algorithm)) {
    throw new ConfigError(
      `algorithm ${algorithm} does not fit privateKey (${/^[AEIOR]/.test(family.name) ? 'an' : 'a'} ${family.name} key)`,
    )
  }
  const jwkAlg = (key as { alg?: unknown }).alg as SigningAlgorithm
  return (
    algorithm ?? (family.algorithms.includes(jwkAlg) ? jwkAlg : (family.algorithms[0] as SigningAlgorithm))
  )
}

export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey
}

/** The key family of a private key; messages name `name`, never the key. */
export function familyOf(key: unknown, name = 'privateKey'): KeyFamily {
  if (typeof key === 'string') return pemFamily(key)
  if (isCryptoKey(key)) {
    if (key.type !== 'private') throw new ConfigError(`${name} must be a private key, not a ${key.type} one`)
    const algorithm = key.algorithm as { name: string; namedCurve?: string }
    switch (algorithm.name) {
      case 'RSASSA-PKCS1-v1_5':
        return RSA
      case 'RSA-PSS':
        return RSA_PSS
      case 'ECDSA':
        return ec(algorithm.namedCurve ?? '')
      case 'Ed25519':
        return ED25519
      default:
        throw new ConfigError(`${name} is a ${printable(algorithm.name, 40)} key; use RSA, ECDSA or Ed25519`)
    }
  }
  if (typeof key === 'object' && key !== null) {
    const jwk = key as JsonWebKey
    if (typeof jwk.d !== 'string')
      throw new ConfigError(`${name} JWK has no private part ("d"); pass the private JWK`)
    if (jwk.kty === 'RSA') return RSA
    if (jwk.kty === 'EC') return ec(jwk.crv ?? '')
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ED25519
    throw new ConfigError(`${name} JWK has an unsupported key type (use RSA, EC or OKP Ed25519)`)
  }
  throw new ConfigError(`${name} must be a private JWK, a PKCS#8 PEM string or a CryptoKey`)
}

// DER encodings of the algorithm OIDs a PKCS#8 key names (RFC 5208 §5 PrivateKeyAlgorithmIdentifier),
// as binary strings (what atob returns)
const OIDS: [string, KeyFamily | string][] = [
  ['\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a', RSA_PSS],
  ['\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01', RSA],
  ['\x06\x03\x2b\x65\x70', ED25519],
  ['\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07', 'P-256'],
  ['\x06\x05\x2b\x81\x04\x00\x22', 'P-384'],
  ['\x06\x05\x2b\x81\x04\x00\x23', 'P-521'],
]

function pemFamily(pem: string): KeyFamily {
  if (/-----BEGIN (RSA |EC )PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(
      'privateKey is a PKCS#1/SEC1 PEM; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)',
    )
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem))
    throw new ConfigError('privateKey is an encrypted PEM; decrypt it first')
  const match = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem)
  if (!match?.[1])
    throw new ConfigError('privateKey string must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)')
  let der: string
  try {
    der = atob(match[1].replace(/\s/g, ''))
  } catch {
    throw new ConfigError('privateKey PEM is not valid base64')
  }
  // the algorithm identifier sits near the start; searching the first bytes is enough
  const head = der.slice(0, 64)
  for (const [oid, family] of OIDS) {
    if (head.includes(oid)) return typeof family === 'string' ? ec(family) : family
  }
  throw new ConfigError('privateKey PEM holds an unsupported key type (use RSA, EC P-256/384/521 or Ed25519)')
}
