import { isStoreEntry, type StoreEntry } from '@tokenwell/core'
import type { Cipher } from './encryption.js'
import { RedisStoreError } from './redis-store-error.js'

const ENCRYPTED = 'A256GCM'

interface Envelope {
  fp?: unknown
  enc?: unknown
  v?: unknown
  entry?: unknown
  rt?: unknown
}

/**
 * Values as stored. An entry is `{ fp, entry }`, or `{ fp, enc: 'A256GCM', v }` when encrypted:
 * the fingerprint stays in clear for the compare-and-delete script. A refresh token is `{ rt }`
 * or `{ enc, v }`. Reading rejects with `RedisStoreError` for anything else.
 */
export function createCodec(cipher: Cipher | undefined) {
  /** The plaintext of a sealed value, or `undefined` for a value stored in clear. */
  async function unseal(name: string, envelope: Envelope): Promise<string | undefined> {
    if (envelope.enc === ENCRYPTED && typeof envelope.v === 'string') {
      if (!cipher) throw new RedisStoreError('stored value is encrypted and this store has no encryptionKey')
      return cipher.open(envelope.v, name)
    }
    if (cipher) throw new RedisStoreError('stored value is not encrypted and this store has an encryptionKey')
    return undefined
  }
  return {
    async sealEntry(name: string, entry: StoreEntry): Promise<string> {
      const fp = entry.fingerprint
      if (!cipher) return JSON.stringify({ fp, entry })
      return JSON.stringify({ fp, enc: ENCRYPTED, v: await cipher.seal(JSON.stringify(entry), name) })
    },
    async openEntry(name: string, text: string): Promise<StoreEntry> {
      const envelope = parseJson(text) as Envelope
      const sealed = await unseal(name, envelope)
      const entry = sealed === undefined ? envelope.entry : parseJson(sealed)
      if (!isStoreEntry(entry) || entry.fingerprint !== envelope.fp)
        throw new RedisStoreError('stored entry is malformed')
      // a forged or corrupted entry whose token is not the one fingerprinted is a miss, never handed out
      if ((await sha256Hex(entry.token.accessToken)) !== entry.fingerprint)
        throw new RedisStoreError('stored entry does not match its fingerprint')
      return entry
    },
    async sealRefreshToken(name: string, refreshToken: string): Promise<string> {
      if (!cipher) return JSON.stringify({ rt: refreshToken })
      return JSON.stringify({ enc: ENCRYPTED, v: await cipher.seal(refreshToken, name) })
    },
    async openRefreshToken(name: string, text: string): Promise<string> {
      const envelope = parseJson(text) as Envelope
      const refreshToken = (await unseal(name, envelope)) ?? envelope.rt
      if (typeof refreshToken !== 'string') throw new RedisStoreError('stored refresh token is malformed')
      return refreshToken
    },
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

function parseJson(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null) return value
  } catch {}
  // never echo the text: it may be a token
  throw new RedisStoreError('stored value is not JSON')
}
