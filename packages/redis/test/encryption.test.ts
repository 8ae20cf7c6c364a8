import { ConfigError } from '@tokenwell/core'
import { RedisStoreError } from '@tokenwell/redis'
import { describe, expect, it } from 'vitest'
import { createCipher } from '../src/encryption.js'

const bytes = new Uint8Array(32).map((_, i) => i)
const base64 = Buffer.from(bytes).toString('base64')
const base64url = Buffer.from(bytes).toString('base64url')
const hex = Buffer.from(bytes).toString('hex')

describe('createCipher', () => {
  it('seals with AES-256-GCM: a random IV each time, nothing of the plaintext visible', async () => {
    const cipher = createCipher(bytes)
    const a = await cipher.seal('token-secret', 'key-1')
    const b = await cipher.seal('token-secret', 'key-1')
    expect(a).not.toBe(b)
    expect(a).not.toContain('token-secret')
    expect(await cipher.open(a, 'key-1')).toBe('token-secret')
  })

  it.each([
    ['a Uint8Array', bytes],
    ['base64 text', base64],
    ['URL-safe base64 text without padding', base64url],
    ['hex text', hex],
  ])('accepts the same key as %s', async (_, key) => {
    const sealed = await createCipher(bytes).seal('x', 'aad')
    expect(await createCipher(key).open(sealed, 'aad')).toBe('x')
  })

  it('accepts a WebCrypto AES-GCM CryptoKey', async () => {
    const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt'])
    const sealed = await createCipher(key).seal('x', 'aad')
    expect(await createCipher(bytes).open(sealed, 'aad')).toBe('x')
  })

  it('opens values sealed with any key of the list, and seals with the first', async () => {
    const oldKey = new Uint8Array(32).fill(1)
    const newKey = new Uint8Array(32).fill(2)
    const old = await createCipher(oldKey).seal('old', 'aad')
    const rotated = createCipher([newKey, oldKey])
    expect(await rotated.open(old, 'aad')).toBe('old')
    expect(await createCipher(newKey).open(await rotated.seal('new', 'aad'), 'aad')).toBe('new')
  })

  it('rejects with RedisStoreError for a wrong key, other associated data, or a tampered value', async () => {
    const sealed = await createCipher(bytes).seal('x', 'aad')
    const tampered = Buffer.from(sealed, 'base64')
    tampered[tampered.length - 1]! ^= 1
    const failures = [
      () => createCipher(new Uint8Array(32)).open(sealed, 'aad'),
      () => createCipher(bytes).open(sealed, 'other'),
      () => createCipher(bytes).open(tampered.toString('base64'), 'aad'),
      () => createCipher(bytes).open('not base64!', 'aad'),
    ]
    for (const failure of failures) {
      const error = await failure().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RedisStoreError)
      expect(error).toMatchObject({ code: 'ERR_STORE' })
    }
  })

  it.each([
    ['16 bytes', new Uint8Array(16)],
    ['short text', 'too-short-secret-key'],
    ['an empty list', []],
    ['a number', 42],
    ['an HMAC CryptoKey', { algorithm: { name: 'HMAC', length: 256 }, usages: ['sign'] }],
  ])('throws ConfigError for a key that is %s, without echoing it', (_, key) => {
    const error = (() => {
      try {
        createCipher(key as never)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/encryptionKey/)
    expect((error as Error).message).not.toContain('too-short-secret-key')
  })
})
