import { createRedisTokenStore } from '@tokenwell/redis'
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
  startRedisServer,
  type TestClient,
} from './support.js'

// Store integrity against a real redis-server: one atomic write with TTLs Redis accepts, fenced
// writes, leases that last while their holder works, and entries that must match their fingerprint.

const skip = redisSkipReason('packages/redis/test/integrity.test.ts')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let redis: RedisServer
let inspector: Inspector
let n = 0
const uniqueKey = () => cacheKey(`integrity-${++n}-${Math.random()}`)

describe.skipIf(skip)('Redis store integrity', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    inspector = await connectInspector(redis.url)
  })
  afterAll(async () => {
    inspector?.destroy()
    await redis?.stop()
  })

  describe.each(CLIENT_KINDS)('with a %s client', (kind) => {
    let connection: TestClient
    beforeAll(async () => {
      connection = await connectClient(kind, redis.url)
    })
    afterAll(() => connection?.close())

    it.each([1e300, 2.5, 1e21, Number.MAX_VALUE])(
      'writes token and refresh token together even with refresh_expires_in %s (TTLs clamped to what Redis accepts)',
      async (refreshExpiresIn) => {
        const store = createRedisTokenStore({ client: connection.client })
        const key = uniqueKey()
        const entry = entryFor('at-1', {
          refreshToken: 'rt-1',
          raw: { refresh_expires_in: refreshExpiresIn },
        })
        await store.set(key, entry, 1_000.5)
        expect((await store.get(key))?.token.accessToken).toBe('at-1')
        expect(await store.getRefreshToken(key)).toBe('rt-1')
      },
    )

    it('an entry whose token does not match its fingerprint is refused (plain and encrypted)', async () => {
      for (const encryptionKey of [undefined, new Uint8Array(32).fill(7)]) {
        const store = createRedisTokenStore({ client: connection.client, encryptionKey })
        const key = uniqueKey()
        const forged = { ...entryFor('forged'), fingerprint: entryFor('genuine').fingerprint }
        await store.set(key, forged, 10_000)
        await expect(store.get(key)).rejects.toMatchObject({ code: 'ERR_STORE' })
        const accepted: string[] = []
        const waited = await store.waitForEntry(key, 50, (e) => {
          accepted.push(e.token.accessToken)
          return true
        })
        expect({ waited, accepted }).toEqual({ waited: undefined, accepted: [] })
      }
    })

    it('a holder whose lease was taken over cannot overwrite the newer result (fenced write)', async () => {
      const store = createRedisTokenStore({ client: connection.client })
      const key = uniqueKey()
      const first = await store.acquireLease(key, 50)
      await sleep(80) // its lease expires; another process takes over and stores its token
      const second = await store.acquireLease(key, 10_000)
      expect(first && second).toBeTruthy()
      expect(await second!.set!(entryFor('newer'), 10_000)).toBe(true)
      expect(await first!.set!(entryFor('stale'), 10_000)).toBe(false)
      expect((await store.get(key))?.token.accessToken).toBe('newer')
      await second!()
    })

    it('an extended lease outlives its TTL while its holder works, and is free once released', async () => {
      const store = createRedisTokenStore({ client: connection.client })
      const key = uniqueKey()
      // 6 × 100 ms of work under a 300 ms TTL; 200 ms of slack for a loaded machine's timers
      const lease = await store.acquireLease(key, 300)
      const takeovers: unknown[] = []
      for (let i = 0; i < 6; i++) {
        expect(await lease!.extend!(300)).toBe(true)
        await sleep(100)
        takeovers.push(await store.acquireLease(key, 300))
      }
      expect(takeovers.filter(Boolean)).toEqual([])
      await lease!()
      expect(await lease!.extend!(300)).toBe(false)
      expect(await store.acquireLease(key, 300)).toBeTruthy()
    })
  })
})
