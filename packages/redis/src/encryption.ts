import { ConfigError } from '@tokenwell/core'
import { RedisStoreError } from './redis-store-error.js'

/**
 * An AES-256 key: 32 bytes as a `Uint8Array`, as base64 (standard or URL-safe) or hex text, or
 * a WebCrypto `CryptoKey` for AES-GCM. Generate one with `openssl rand -base64 32`.
 */
export type EncryptionKey = string | Uint8Array | CryptoKey

/** Seals and opens values with AES-256-GCM; `aad` binds a value to the Redis key it is stored under. */
export interface Cipher {
  seal(plaintext: string, aad: string): Promise<string>
  /** Tries every key, newest first, so values written before a key rotation still open. */
  open(sealed: string, aad: string): Promise<string>
}

const MESSAGE =
  'encryptionKey must be 32 bytes (AES-256): a Uint8Array, base64 or hex text, or an AES-GCM CryptoKey'
const IV_BYTES = 12 // NIST SP 800-38D §8.2: 96-bit random IVs

/**
 * A cipher over `keys`: the first key encrypts, all of them decrypt (key rotation: put the new
 * key first and keep the old ones until the values they wrote have expired). Throws
 * `ConfigError` at once for a key that is not 32 bytes; the message never echoes the key.
 */
export function createCipher(keys: EncryptionKey | readonly EncryptionKey[]): Cipher {
  const list = (Array.isArray(keys) ? keys : [keys]) as readonly EncryptionKey[]
  if (list.length === 0) throw new ConfigError('encryptionKey must not be an empty array')
  const parsed = list.map(parseKey)
  let imported: Promise<CryptoKey[]> | undefined
  const cryptoKeys = () =>
    (imported ??= Promise.all(
      parsed.map((key) =>
        key instanceof Uint8Array
          ? crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
              'encrypt',
              'decrypt',
            ])
          : Promise.resolve(key),
      ),
    ))
  return {
    async seal(plaintext, aad) {
      const [key] = await cryptoKeys()
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const data = new TextEncoder().encode(plaintext)
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: utf8(aad) },
        key!,
        data,
      )
      return toBase64(concat(iv, new Uint8Array(sealed)))
    },
    async open(sealed, aad) {
      const bytes = fromBase64(sealed)
      if (!bytes || bytes.length <= IV_BYTES) throw new RedisStoreError('stored value is not a sealed value')
      const iv = bytes.subarray(0, IV_BYTES)
      const data = bytes.subarray(IV_BYTES)
      for (const key of await cryptoKeys()) {
        try {
          const opened = await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv, additionalData: utf8(aad) },
            key,
            data,
          )
          return new TextDecoder().decode(opened)
        } catch {
          // not this key (or tampered): GCM's tag check fails; try the next one
        }
      }
      throw new RedisStoreError('stored value could not be decrypted with any encryptionKey')
    },
  }
}

function parseKey(key: EncryptionKey): Uint8Array | CryptoKey {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new ConfigError(MESSAGE)
    return new Uint8Array(key) // a copy: the caller may zero theirs
  }
  if (typeof key === 'string') {
    const text = key.trim()
    const bytes = /^[0-9a-f]{64}$/i.test(text) ? fromHex(text) : fromBase64(text)
    if (bytes?.length !== 32) throw new ConfigError(MESSAGE)
    return bytes
  }
  if (isCryptoKey(key)) return key
  throw new ConfigError(MESSAGE)
}

function isCryptoKey(key: unknown): key is CryptoKey {
  const k = key as Partial<CryptoKey> | null
  const algorithm = k?.algorithm as { name?: string; length?: number } | undefined
  return (
    typeof k === 'object' &&
    algorithm?.name === 'AES-GCM' &&
    algorithm.length === 256 &&
    Array.isArray(k?.usages) &&
    k.usages.includes('encrypt') &&
    k.usages.includes('decrypt')
  )
}

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text)
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function fromHex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(text.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Standard or URL-safe base64, padded or not; `undefined` for anything else. */
function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    return Uint8Array.from(binary, (char) => char.charCodeAt(0))
  } catch {
    return undefined
  }
}
