import { ConfigError } from '../errors.js'
import { familyOf, isCryptoKey } from '../jwt/keys.js'
import { createDpopSession, type Dpop, type DpopOptions, dpopTokenRequest } from './dpop.js'

/**
 * DPoP-bound tokens (RFC 9449), for a provider's `dpop` option: each provider gets its own
 * session, with `options.key` or an ES256 key pair it generates (WebCrypto, the private half not
 * extractable). Throws `ConfigError` when `key` is not a usable key pair.
 * @see RFC 9449
 * @example
 * import { createDpop } from '@tokenwell/core/dpop'
 * createTokenProvider({ tokenEndpoint, clientId, clientSecret, dpop: createDpop() })
 */
export function createDpop(options: DpopOptions = {}): Dpop {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createDpop() takes { key }')
  for (const name of Object.keys(options))
    if (name !== 'key') throw new ConfigError(`unknown option "dpop.${name.slice(0, 40)}"`)
  const { key } = options
  if (key !== undefined) {
    if (
      typeof key !== 'object' ||
      key === null ||
      !isCryptoKey(key.privateKey) ||
      !isCryptoKey(key.publicKey)
    )
      throw new ConfigError('dpop.key must be a CryptoKeyPair (privateKey and publicKey CryptoKeys)')
    if (key.privateKey.type !== 'private' || key.publicKey.type !== 'public')
      throw new ConfigError('dpop.key must hold a private and a public key')
    familyOf(key.privateKey, 'dpop.key')
  }
  const settings = Object.freeze(key === undefined ? {} : { key })
  return Object.freeze({
    session: (clock: () => number) => createDpopSession(settings, clock),
    tokenRequest: dpopTokenRequest,
  })
}
