import { loadJose } from '../crypto/jose.js'
import type { PrivateKeyInput, SigningAlgorithm } from '../crypto/keys.js'
import type * as Errors from '../errors.js'
import type { ClientAuthMethod, ResolvedTokenProviderOptions } from '../provider/options.js'

/** Signs one client assertion per token request (a fresh `jti` each time: servers reject replays). */
export type ClientAssertionSigner = (
  method: ClientAuthMethod,
  audience: string,
  now: number,
) => Promise<string>

/**
 * A signer for `private_key_jwt` / `client_secret_jwt`, or `undefined` when the provider's
 * options use neither (discovery may still switch a secret-based client to `client_secret_jwt`).
 * The key is imported once, lazily; a key that does not import is a `ConfigError` naming `privateKey`.
 * `errors` are core's error classes (a module loaded through `import()` imports none of core:
 * see test/lazy-modules.test.ts).
 * @see RFC 7523 §3, OpenID Connect Core 1.0 §9
 */
export function createClientAssertionSigner(
  options: Pick<ResolvedTokenProviderOptions, 'clientId' | 'clientSecret' | 'privateKey' | 'clientAssertion'>,
  errors: Pick<typeof Errors, 'ConfigError'>,
): ClientAssertionSigner {
  const { ConfigError } = errors
  let imported:
    | Promise<{ key: CryptoKey | Uint8Array; alg: SigningAlgorithm; kid: string | undefined }>
    | undefined
  const keyFor = (method: ClientAuthMethod) => {
    if (method === 'client_secret_jwt') {
      if (options.clientSecret === undefined)
        throw new ConfigError('clientSecret is required for clientAuth "client_secret_jwt"')
      return Promise.resolve({
        key: new TextEncoder().encode(options.clientSecret),
        alg: options.clientAssertion.algorithm ?? 'HS256',
        kid: options.clientAssertion.keyId,
      })
    }
    const privateKey = options.privateKey
    if (privateKey === undefined)
      throw new ConfigError('privateKey is required for clientAuth "private_key_jwt"')
    // resolveOptions chose the algorithm from the key
    imported ??= importPrivateKey(privateKey, options.clientAssertion.algorithm ?? 'RS256', ConfigError).then(
      (result) => ({ ...result, kid: options.clientAssertion.keyId ?? result.kid }),
    )
    return imported
  }
  return async (method, audience, now) => {
    const { key, alg, kid } = await keyFor(method)
    const { SignJWT } = await loadJose()
    const iat = Math.floor(now / 1000)
    const lifetime = Math.ceil((options.clientAssertion.lifetime ?? 60_000) / 1000)
    // RFC 7523 §3: iss and sub are the client id, aud the authorization server, exp required; jti prevents replay
    return new SignJWT({})
      .setProtectedHeader({ alg, ...(kid !== undefined && { kid }) })
      .setIssuer(options.clientId)
      .setSubject(options.clientId)
      .setAudience(audience)
      .setJti(crypto.randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .sign(key)
  }
}

/** Imports a private key for signing; the message names the option, never the key. */
async function importPrivateKey(
  key: PrivateKeyInput,
  alg: SigningAlgorithm,
  ConfigError: typeof Errors.ConfigError,
  name = 'privateKey',
): Promise<{ key: CryptoKey; alg: SigningAlgorithm; kid: string | undefined }> {
  const jose = await loadJose()
  try {
    if (isCryptoKey(key)) {
      if (!key.usages.includes('sign')) throw new ConfigError(`${name} CryptoKey must allow the "sign" usage`)
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
    throw new ConfigError(`${name} could not be imported for ${alg} signing`)
  }
}

/** `keys.ts` has the same check; importing it would tie this lazily loaded module to the validation code. */
function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey
}
