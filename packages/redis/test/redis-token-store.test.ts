import { inspect } from 'node:util'
import { createRedisTokenStore, RedisStoreError, type RedisTokenStore } from '@tokenwell/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CLIENT_KINDS,
  cacheKey,
  connectClient,
  connectInspector,
  entryFor,
  type Inspector,
  type RedisServer,
  redisSkipReason,
  sha256Hex,
  startRedisServer,
  type TestClient,
} from './support.js'

const skip = redisSkipReason('packages/redis/test/redis-token-store.test.ts')
const KEY = 'k'.repeat(32)
const KEY_A = new TextEncoder().encode(KEY) // 32 bytes
const KEY_B = new Uint8Array(32).fill(7)

let redis: RedisServer
let inspector: Inspector
let n = 0
const uniqueKey = () => cacheKey(`store-test-${++n}-${Math.random()}`)

/** Every key and value in Redis, as one string to scan for secrets. */
async function everything(): Promise<string> {
  const keys = await inspector.keys('*')
  const values = await Promise.all(keys.map((key) => inspector.get(key)))
  return JSON.stringify({ keys, values })
}

describe.skipIf(skip)('createRedisTokenStore against a real redis-server', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    inspector = await connectInspector(redis.url)
  })
  afterAll(async () => {
    await inspector?.destroy()
    await redis?.stop()
  })

  describe.each(CLIENT_KINDS)('with a %s client', (kind) => {
    let connection: TestClient
    let store: RedisTokenStore
    beforeAll(async () => {
      connection = await connectClient(kind, redis.url)
      store = createRedisTokenStore({ client: connection.client, prefix: `${kind}:` })
    })
    afterAll(() => connection?.close())

    it('stores an entry and reads it back under hashed keys with its prefix, never a secret', async () => {
      const key = uniqueKey()
      const entry = entryFor('access-secret-1', { refreshToken: 'refresh-secret-1' })
      await store.set(key, entry, 60_000)

      expect(await store.get(key)).toEqual(entry)
      const keys = await inspector.keys(`${kind}:*`)
      expect(keys.sort()).toEqual([`${kind}:{${key}}:refresh`, `${kind}:{${key}}:token`])
      expect(keys.join()).not.toMatch(/secret/)
    })

    it('misses for a key it never stored', async () => {
      expect(await store.get(uniqueKey())).toBeUndefined()
      expect(await store.getRefreshToken(uniqueKey())).toBeUndefined()
    })

    it('lets the entry expire with its token: the TTL in Redis is the one core passes', async () => {
      const key = uniqueKey()
      await store.set(key, entryFor('a'), 60_000)
      const pttl = await inspector.pTTL(`${kind}:{${key}}:token`)
      expect(pttl).toBeGreaterThan(55_000)
      expect(pttl).toBeLessThanOrEqual(60_000)

      const short = uniqueKey()
      await store.set(short, entryFor('b'), 40)
      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(await store.get(short)).toBeUndefined()
    })

    it('compare-and-delete drops the entry only while it still holds that token', async () => {
      const key = uniqueKey()
      await store.set(key, entryFor('current'), 60_000)

      expect(await store.compareAndDelete(key, sha256Hex('stale'))).toBe(false)
      expect((await store.get(key))?.token.accessToken).toBe('current')
      expect(await store.compareAndDelete(key, sha256Hex('current'))).toBe(true)
      expect(await store.get(key)).toBeUndefined()
      expect(await store.compareAndDelete(key, sha256Hex('current'))).toBe(false)
    })

    it('keeps the newest refresh token after its access token is dropped or expired', async () => {
      const key = uniqueKey()
      await store.set(key, entryFor('a1', { refreshToken: 'r1' }), 60_000)
      await store.set(key, entryFor('a2', { refreshToken: 'r2' }), 40)
      expect(await store.getRefreshToken(key)).toBe('r2')

      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(await store.get(key)).toBeUndefined()
      expect(await store.getRefreshToken(key)).toBe('r2')
      await store.set(key, entryFor('a3'), 60_000) // a response without a refresh token keeps the old one
      expect(await store.compareAndDelete(key, sha256Hex('a3'))).toBe(true)
      expect(await store.getRefreshToken(key)).toBe('r2')
    })

    it('keeps a refresh token as long as the response says (refresh_expires_in), else refreshTokenTtl', async () => {
      const key = uniqueKey()
      await store.set(key, entryFor('a', { refreshToken: 'r', raw: { refresh_expires_in: 1_800 } }), 60_000)
      const pttl = await inspector.pTTL(`${kind}:{${key}}:refresh`)
      expect(pttl).toBeGreaterThan(1_790_000)
      expect(pttl).toBeLessThanOrEqual(1_800_000)

      const other = uniqueKey()
      const short = createRedisTokenStore({
        client: connection.client,
        prefix: `${kind}:`,
        refreshTokenTtl: 120_000,
      })
      await short.set(other, entryFor('a', { refreshToken: 'r' }), 60_000)
      expect(await inspector.pTTL(`${kind}:{${other}}:refresh`)).toBeGreaterThan(110_000)
      expect(await inspector.pTTL(`${kind}:{${other}}:refresh`)).toBeLessThanOrEqual(120_000)
    })

    it('gives the lease to one caller at a time, and only its holder can release it (fenced)', async () => {
      const key = uniqueKey()
      const first = await store.acquireLease(key, 60)
      expect(first).toBeTypeOf('function')
      expect(await store.acquireLease(key, 60)).toBeUndefined()

      await new Promise((resolve) => setTimeout(resolve, 100)) // the first holder's lease expired
      const second = await store.acquireLease(key, 60_000)
      expect(second).toBeTypeOf('function')
      await first!() // too late: must not release the second holder's lease
      expect(await store.acquireLease(key, 60_000)).toBeUndefined()
      await second!()
      const third = await store.acquireLease(key, 60_000)
      expect(third).toBeTypeOf('function')
      await third!()
    })

    it('hands the refresh-token mark of a holder whose lease lapsed to the next holder; a cleared mark, or a lost lease, leaves none', async () => {
      const key = uniqueKey()
      const first = await store.acquireLease(key, 60)
      expect(first?.inDoubt).toBeUndefined()
      expect(await first!.redeeming!('fp-1')).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 100)) // the holder died mid-request
      const second = await store.acquireLease(key, 60_000)
      expect(second?.inDoubt).toBe('fp-1')
      // the dead holder's lease is gone: it can neither mark nor clear any more
      expect(await first!.redeeming!(undefined)).toBe(false)
      expect(await second!.redeeming!('fp-2')).toBe(true)
      expect(await second!.redeeming!(undefined)).toBe(true) // its outcome is known
      await second!()
      const third = await store.acquireLease(key, 60_000)
      expect(third?.inDoubt).toBeUndefined()
      await third!()
    })

    it('waitForEntry returns the entry the lease holder stores later', async () => {
      const key = uniqueKey()
      const release = await store.acquireLease(key, 10_000)
      const waiting = store.waitForEntry(key, 10_000, () => true)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await store.set(key, entryFor('from-holder'), 60_000)
      await release!()
      expect((await waiting)?.token.accessToken).toBe('from-holder')
    })

    it('waitForEntry gives up as soon as the lease is free with no token, so a waiter can take over', async () => {
      const key = uniqueKey()
      const release = await store.acquireLease(key, 10_000)
      let settled = false
      const waiting = store
        .waitForEntry(key, 10_000, () => true)
        .finally(() => {
          settled = true
        })
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(settled).toBe(false)
      await release!() // the holder failed: it releases without storing a token
      const outcome = await Promise.race([
        waiting,
        new Promise((resolve) => setTimeout(resolve, 5_000, 'timeout')),
      ])
      expect(outcome).toBeUndefined()
    })

    it('waitForEntry skips entries that accept() rejects and times out', async () => {
      const key = uniqueKey()
      await store.set(key, entryFor('invalidated'), 60_000)
      const release = await store.acquireLease(key, 10_000)
      const accept = (entry: { token: { accessToken: string } }) => entry.token.accessToken !== 'invalidated'
      expect(await store.waitForEntry(key, 150, accept)).toBeUndefined()
      await release!()
    })

    it('rejects with RedisStoreError (ERR_STORE) for a value it cannot read, without echoing it', async () => {
      const key = uniqueKey()
      await inspector.set(`${kind}:{${key}}:token`, 'plain-secret-value')
      const error = await store.get(key).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RedisStoreError)
      expect(error).toMatchObject({ code: 'ERR_STORE' })
      expect(inspect(error)).not.toContain('plain-secret-value')
    })
  })

  describe('encryption at rest', () => {
    let connection: TestClient
    beforeAll(async () => {
      connection = await connectClient('node-redis', redis.url)
    })
    afterAll(() => connection?.close())

    it('leaves no token in any Redis key or value, and reads it back', async () => {
      const store = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_A })
      const key = uniqueKey()
      const entry = entryFor('access-secret-enc', { refreshToken: 'refresh-secret-enc' })
      await store.set(key, entry, 60_000)

      const dump = await everything()
      expect(dump).toContain(`enc:{${key}}:token`)
      expect(dump).not.toContain('access-secret-enc')
      expect(dump).not.toContain('refresh-secret-enc')
      expect(await store.get(key)).toEqual(entry)
      expect(await store.getRefreshToken(key)).toBe('refresh-secret-enc')
    })

    it('compare-and-delete works on encrypted entries (the fingerprint is kept in clear)', async () => {
      const store = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_A })
      const key = uniqueKey()
      await store.set(key, entryFor('enc-current'), 60_000)
      expect(await store.compareAndDelete(key, sha256Hex('enc-stale'))).toBe(false)
      expect(await store.compareAndDelete(key, sha256Hex('enc-current'))).toBe(true)
      expect(await store.get(key)).toBeUndefined()
    })

    it('rotates keys: values written with the old key still open when it follows the new one', async () => {
      const key = uniqueKey()
      const before = createRedisTokenStore({
        client: connection.client,
        prefix: 'enc:',
        encryptionKey: KEY_A,
      })
      await before.set(key, entryFor('written-before', { refreshToken: 'r-before' }), 60_000)

      const after = createRedisTokenStore({
        client: connection.client,
        prefix: 'enc:',
        encryptionKey: [KEY_B, KEY_A],
      })
      expect((await after.get(key))?.token.accessToken).toBe('written-before')
      expect(await after.getRefreshToken(key)).toBe('r-before')
      await after.set(key, entryFor('written-after'), 60_000)
      const newKeyOnly = createRedisTokenStore({
        client: connection.client,
        prefix: 'enc:',
        encryptionKey: KEY_B,
      })
      expect((await newKeyOnly.get(key))?.token.accessToken).toBe('written-after')
    })

    it('treats a value it cannot decrypt, or a plaintext one, as unreadable (ERR_STORE)', async () => {
      const key = uniqueKey()
      const plain = createRedisTokenStore({ client: connection.client, prefix: 'enc:' })
      const withA = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_A })
      const withB = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_B })
      await withA.set(key, entryFor('sealed'), 60_000)
      await expect(withB.get(key)).rejects.toMatchObject({ code: 'ERR_STORE' })
      await expect(plain.get(key)).rejects.toMatchObject({ code: 'ERR_STORE' })
      await plain.set(key, entryFor('in-clear'), 60_000)
      await expect(withA.get(key)).rejects.toMatchObject({ code: 'ERR_STORE' })
    })

    it('binds a sealed value to its key: copied under another key it does not open', async () => {
      const store = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_A })
      const [from, to] = [uniqueKey(), uniqueKey()]
      await store.set(from, entryFor('bound'), 60_000)
      await inspector.set(`enc:{${to}}:token`, (await inspector.get(`enc:{${from}}:token`))!)
      await expect(store.get(to)).rejects.toMatchObject({ code: 'ERR_STORE' })
    })

    it('never shows the key or a token in util.inspect or JSON.stringify of the store', () => {
      const store = createRedisTokenStore({ client: connection.client, prefix: 'enc:', encryptionKey: KEY_A })
      const text = `${inspect(store, { showHidden: true, depth: 5 })} ${JSON.stringify(store)}`
      expect(text).toContain('encrypted: true')
      expect(text).not.toContain(KEY)
      expect(text).not.toContain(Buffer.from(KEY_A).toString('base64'))
    })
  })
})
