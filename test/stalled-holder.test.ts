import {
  createMemoryTokenStore,
  createTokenProvider,
  type StoreLease,
  type TokenProvider,
  type TokenStore,
} from '@tokenwell/core'
import { createRedisTokenStore } from '@tokenwell/redis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forgetRefreshFamilies } from '../packages/core/src/provider/families.js'
import { type RedisServer, redisSkipReason, startRedisServer } from './support/redis-server.js'
import { firstRefreshToken, useServers } from './support/servers.js'

// Rule 4 and "nothing is lost" where a lease holder stalls mid-refresh, counted at the mock
// server (rotation, reuse detection). Two processes share a store but not a cache key (two
// scopes): only the refresh token's family key (core store-families.ts) is theirs in common.
// The holder's heartbeats are lost, so its 150 ms lease runs out while its request waits
// 600 ms at the server; the other process takes the lease over, finds the holder's mark on the
// refresh token and never sends it. Then the holder's answer comes, and the holder names the
// successor in the family entry: the other process must redeem that, not ask for a new login.
// Each provider stands for a process of its own: this process's registry of redemptions
// (families.ts) is forgotten before each request and before the other process's next call.
const servers = useServers()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const skipRedis = redisSkipReason('test/stalled-holder.test.ts')

let redis: RedisServer | undefined
const closing: (() => Promise<unknown>)[] = []
let prefixes = 0

beforeAll(async () => {
  if (!skipRedis) redis = await startRedisServer()
})
afterAll(async () => {
  await Promise.all(closing.splice(0).map((close) => close()))
  await redis?.stop()
})

/** `base`, whose leases last 150 ms and are never extended (a stalled event loop, a partition). */
function stalling(base: TokenStore): TokenStore {
  return {
    ...base,
    async acquireLease(key, _ttl) {
      const lease = await base.acquireLease!(key, 150)
      return lease && (Object.assign(lease, { extend: async () => true }) as StoreLease)
    },
  }
}

/** One store per process, over one medium: a memory store standing for Redis, or Redis. */
const MEDIA = {
  'a shared memory store': async () => {
    // spread, the memory store is not marked as one process's: it gets family keys
    const shared: TokenStore = { ...createMemoryTokenStore() }
    return () => shared
  },
  Redis: async () => {
    const prefix = `stalled-${++prefixes}:`
    return async () => {
      const client = createClient({ url: redis!.url })
      client.on('error', () => {})
      await client.connect()
      closing.push(() => client.destroy() as unknown as Promise<void>)
      return createRedisTokenStore({ client: client as never, prefix, pollInterval: 10 })
    }
  },
} as const

describe.each(Object.keys(MEDIA) as (keyof typeof MEDIA)[])('%s', (medium) => {
  it.skipIf(medium === 'Redis' && skipRedis)(
    'the process that doubted the stalled holder’s refresh token redeems the successor the holder stored: 0 reuse, each redeemed once',
    async () => {
      const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint, 'orders:read orders:write')
      servers.auth.stats.reset()
      const sent: string[] = []
      const fetchAsProcess = async (request: Request) => {
        forgetRefreshFamilies() // another process: nothing this one registered
        sent.push(new URLSearchParams(await request.clone().text()).get('refresh_token') ?? '')
        return fetch(request)
      }
      const storeOf = await MEDIA[medium]()
      const make = (scope: string, store: TokenStore): TokenProvider =>
        createTokenProvider({
          tokenEndpoint: servers.auth.tokenEndpoint,
          clientId: 'demo-client',
          clientSecret: 'demo-secret',
          grant: { type: 'refresh_token', refreshToken },
          scope,
          store,
          fetch: fetchAsProcess,
          refreshAhead: false,
          failureCooldown: 0,
          lockTtl: 150,
        })
      const holder = make('orders:read', stalling(await storeOf()))
      const other = make('orders:write', await storeOf())

      servers.auth.setLatency(600)
      const held = holder.getToken()
      await sleep(300) // the holder's lease ran out; its request is still at the server
      const early = await other.getToken().then(
        () => 'token',
        (error: { code?: string }) => error.code,
      )
      const first = await held // the holder's answer: it stores the successor
      servers.auth.setLatency(0)
      forgetRefreshFamilies() // the other process never saw that answer
      const late = await other.getToken()

      expect(first.accessToken).not.toBe(late.accessToken)
      expect(first.refreshToken).toBeDefined()
      // the first call found the holder's mark while no answer was in: it sent nothing
      expect(early).toBe('ERR_AUTHORIZATION')
      expect(sent).toEqual([refreshToken, first.refreshToken])
      expect(servers.auth.stats).toMatchObject({ refreshTokenReuse: 0, tokenRequests: 2, tokensIssued: 2 })
      expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
      await Promise.all([holder.close(), other.close()])
    },
    20_000,
  )
})
