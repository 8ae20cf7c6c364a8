import { loadJose } from '../crypto/jose.js'
import type { ClientAssertionMethod } from '../endpoint/client-assertion-method.js'
import { ConfigError } from '../errors.js'
import {
  type ClientAssertionOptions,
  isCryptoKey,
  type PrivateKeyInput,
  type SigningAlgorithm,
  validateClientAssertion,
  validatePrivateKey,
} from './keys.js'

/** `privateKeyJwt()` options: the key, and how assertions are signed. */
export interface PrivateKeyJwtOptions extends ClientAssertionOptions {
  /**
   * The client's private key: a private JWK, a PKCS#8 PEM string (`-----BEGIN PRIVATE KEY-----`)
   * or a WebCrypto `CryptoKey`. Never shown in errors or logs.
   */
  privateKey: PrivateKeyInput
}

type SigningKey = { key: CryptoKey | Uint8Array; alg: SigningAlgorithm; kid: string | undefined }

/**
 * `private_key_jwt` client authentication, for `clientAuth`: every token request carries a
 * client assertion signed with `privateKey` (the algorithm fits the key: RS256 for RSA,
 * ES256/384/512 by EC curve, EdDSA for Ed25519, or the JWK's `alg`). The key is checked at once
 * (`ConfigError` naming what is wrong, never the key) and imported on first use.
 * @see RFC 7523 §2.2, OpenID Connect Core 1.0 §9
 * @example
 * import { privateKeyJwt } from '@tokenwell/core/jwt'
 * createTokenProvider({ tokenEndpoint, clientId: 'svc', clientAuth: privateKeyJwt({ privateKey: pem, keyId: 'k1' }) })
 */
export function privateKeyJwt(options: PrivateKeyJwtOptions): ClientAssertionMethod {
  if (typeof options !== 'object' || options === null || options.privateKey === undefined)
    throw new ConfigError('privateKey is required for private_key_jwt')
  const { privateKey, ...rest } = options
  const assertion = validateClientAssertion(rest, 'private_key_jwt', ['privateKey'])
  const alg = validatePrivateKey(privateKey, assertion.algorithm)
  let imported: Promise<SigningKey> | undefined
  return assertionMethod('private_key_jwt', assertion, () => {
    imported ??= importPrivateKey(privateKey, alg).then((key) => ({
      ...key,
      kid: assertion.keyId ?? key.kid,
    }))
    return imported
  })
}

/**
 * `client_secret_jwt` client authentication, for `clientAuth`: every token request carries a
 * client assertion signed with the provider's `clientSecret` (HS256 unless `algorithm` says
 * HS384/HS512).
 * @see RFC 7523 §2.2, OpenID Connect Core 1.0 §9
 * @example
 * createTokenProvider({ tokenEndpoint, clientId: 'svc', clientSecret, clientAuth: clientSecretJwt() })
 */
export function clientSecretJwt(options: ClientAssertionOptions = {}): ClientAssertionMethod {
  const assertion = validateClientAssertion(options, 'client_secret_jwt')
  return assertionMethod('client_secret_jwt', assertion, (secret) => {
    if (secret === undefined)
      throw new ConfigError('clientSecret is required for clientAuth "client_secret_jwt"')
    return Promise.resolve({
      key: new TextEncoder().encode(secret),
      alg: assertion.algorithm ?? 'HS256',
      kid: assertion.keyId,
    })
  })
}

function assertionMethod(
  method: ClientAssertionMethod['method'],
  assertion: ClientAssertionOptions,
  keyFor: (clientSecret: string | undefined) => Promise<SigningKey>,
): ClientAssertionMethod {
  return Object.freeze({
    method,
    audience: assertion.audience,
    async sign({ clientId, clientSecret, audience, now }) {
      const { key, alg, kid } = await keyFor(clientSecret)
      const { SignJWT } = await loadJose()
      const iat = Math.floor(now / 1000)
      const lifetime = Math.ceil((assertion.lifetime ?? 60_000) / 1000)
      // RFC 7523 §3: iss and sub are the client id, aud the authorization server, exp required; jti prevents replay
      return new SignJWT({})
        .setProtectedHeader({ alg, ...(kid !== undefined && { kid }) })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(audience)
        .setJti(crypto.randomUUID())
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetime)
        .sign(key)
    },
  } satisfies ClientAssertionMethod)
}

/** Imports a private key for signing; the message names the option, never the key. */
async function importPrivateKey(
  key: PrivateKeyInput,
  alg: SigningAlgorithm,
): Promise<{ key: CryptoKey; alg: SigningAlgorithm; kid: string | undefined }> {
  const jose = await loadJose()
  try {
    if (isCryptoKey(key)) {
      if (!key.usages.includes('sign'))
        throw new ConfigError('privateKey CryptoKey must allow the "sign" usage')
      return { key, alg, kid: undefined }
    }
    if (typeof key === 'string') return { key: await jose.importPKCS8(key, alg), alg, kid: undefined }
    const imported = await jose.importJWK({ ...key, alg } as import('jose').JWK, alg)
    if (!isCryptoKey(imported)) throw new TypeError('not an asymmetric key')
    const kid = (key as { kid?: unknown }).kid
    return { key: imported, alg, kid: typeof kid === 'string' ? kid : undefined }
  } catch (error) {
    if (error instanceof ConfigError) throw error
    // jose's message is generic, but the key never goes near an error: no cause attached
    throw new ConfigError(`privateKey could not be imported for ${alg} signing`)
  }
}
