import {
  createMemoryTokenStore,
  createTokenProvider,
  type StoreLease,
  type TokenProviderOptions,
  type TokenStore,
} from '@tokenwell/core'
import { createRedisTokenStore, type RedisClientLike } from '@tokenwell/redis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forgetRefreshFamilies } from '../packages/core/src/provider/families.js'
import { type RedisServer, redisSkipReason, startRedisServer } from './support/redis-server.js'
import { firstRefreshToken, useServers } from './support/servers.js'

// Rule 4 and "nothing is lost" where a lease holder stalls mid-refresh, counted at the mock
// server (rotation, reuse detection). Two processes share a store, and a cache key too or not
// (the same scope or another): then only the refresh token's family key (core
// store-families.ts) is theirs in common. The holder's heartbeats are lost, so its 150 ms lease runs out while its request waits
// 600 ms at the server; the other process takes the lease over, finds the holder's mark on the
// refresh token and never sends it. Then the holder's answer comes, and the holder names the
// successor in the family entry (and its token under its cache key): the other process must
// get a token from that successor, not be asked for a new login.
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
      closing.push(async () => client.destroy())
      return createRedisTokenStore({ client: client as unknown as RedisClientLike, prefix, pollInterval: 10 })
    }
  },
} as const

/** What a provider's call came to: 'token', or its error's code. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'token',
    (error: { code?: string }) => error.code,
  )

/**
 * The holder (scope orders:read, its leases stalled) redeems the refresh token, answered after
 * 600 ms; 200 ms after that request reached the server, the other process (`scope`,
 * `otherOptions`) asks, then asks again once the holder's answer is in. Resolves what each of
 * the other's calls came to, the holder's token, the refresh tokens sent (in order) and the
 * server's counts.
 */
async function stalledHolder(
  medium: keyof typeof MEDIA,
  scope: string,
  otherOptions: Partial<TokenProviderOptions>,
) {
  const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint, 'orders:read orders:write')
  servers.auth.stats.reset()
  const sent: string[] = []
  const fetchAsProcess = async (request: Request) => {
    forgetRefreshFamilies() // another process: nothing this one registered
    sent.push(new URLSearchParams(await request.clone().text()).get('refresh_token') ?? '')
    return fetch(request)
  }
  const storeOf = await MEDIA[medium]()
  const make = (scope: string, store: TokenStore, more: Partial<TokenProviderOptions> = {}) =>
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
      ...more,
    })
  const holder = make('orders:read', stalling(await storeOf()))
  const other = make(scope, await storeOf(), otherOptions)
  try {
    servers.auth.setLatency(600)
    const held = holder.getToken()
    while (servers.auth.stats.tokenRequests === 0) await sleep(5)
    await sleep(200) // the holder's lease ran out; its request is still at the server
    const early = await outcome(other.getToken())
    const first = await held // the holder's answer: it stores the successor
    servers.auth.setLatency(0)
    await sleep(100) // every wait of the other's is over
    forgetRefreshFamilies() // the other process never saw that answer
    const late = await outcome(other.getToken())
    const stats = { ...servers.auth.stats, invalidGrant: servers.auth.stats.byError['invalid_grant'] ?? 0 }
    return { calls: [early, late], first, sent, refreshToken, stats }
  } finally {
    await Promise.all([holder.close(), other.close()])
  }
}

/**
 * Another scope shares only the refresh token's family key: the other process redeems the
 * successor itself. The same scope shares the cache key too: it takes the holder's token from
 * the store (its write is kept while its mark stands) and redeems nothing.
 */
const SCOPES = [
  { scope: 'another scope', other: 'orders:write', redeemed: 2, gaveUp: 'ERR_TOKEN_REQUEST' },
  { scope: 'the same scope', other: 'orders:read', redeemed: 1, gaveUp: 'ERR_AUTHORIZATION' },
] as const

/** Each refresh token of the run (the first `redeemed` of the family) redeemed once: 0 reuse, 0 invalid_grant. */
function expectEachRedeemedOnce(run: Awaited<ReturnType<typeof stalledHolder>>, redeemed: number): void {
  expect(run.sent).toEqual([run.refreshToken, run.first.refreshToken].slice(0, redeemed))
  expect(run.stats).toMatchObject({
    refreshTokenReuse: 0,
    invalidGrant: 0,
    tokenRequests: redeemed,
    tokensIssued: redeemed,
  })
}

describe.each(Object.keys(MEDIA) as (keyof typeof MEDIA)[])('%s', (medium) => {
  describe.each(SCOPES)('$scope', ({ other, redeemed, gaveUp }) => {
    it.skipIf(medium === 'Redis' && skipRedis)(
      'the other process asking while the holder’s answer is on its way waits for it and gets a token from the successor: 0 reuse, each redeemed once',
      async () => {
        const run = await stalledHolder(medium, other, {})
        expect(run.calls).toEqual(['token', 'token'])
        expect(run.first.refreshToken).toBeDefined()
        expectEachRedeemedOnce(run, redeemed)
      },
      20_000,
    )

    it.skipIf(medium === 'Redis' && skipRedis)(
      'one whose wait ended before that answer came gets a token from the successor on its next call: 0 reuse, each redeemed once',
      async () => {
        // the other's wait ends 200 ms after it took over (its retry deadline plus its answer
        // timeout), its caller's after 100 ms: the holder answers 400 ms after the takeover
        const run = await stalledHolder(medium, other, { timeout: 100, retry: { deadline: 100 } })
        // the first call sent nothing: the refresh token was in doubt, and no answer was in
        expect(run.calls).toEqual([gaveUp, 'token'])
        expectEachRedeemedOnce(run, redeemed)
      },
      20_000,
    )
  })
})
