import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { createRedisTokenStore, type RedisClientLike } from '@tokenwell/redis'
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterSkipReason, type RedisCluster, startRedisCluster } from './support/redis-cluster.js'

// The Redis store on a real 3-node Redis Cluster, with node-redis createCluster and ioredis
// Cluster: 4 providers, each with its own cluster connection, share one token. Counted at the
// mock authorization server.

const skip = clusterSkipReason('test/redis-cluster.test.ts')
const PROVIDERS = 4
let cluster: RedisCluster
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let generation = 0

interface Fleet {
  providers: TokenProvider[]
  /** The Redis key of the shared token (for its hash slot). */
  tokenKey: () => string
  close(): Promise<void>
}

async function connect(
  kind: 'node-redis' | 'ioredis',
): Promise<{ client: RedisClientLike; close(): Promise<void> }> {
  if (kind === 'ioredis') {
    const nodes = cluster.urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) }))
    const io = new Cluster(nodes, {
      redisOptions: { maxRetriesPerRequest: 1 },
      clusterRetryStrategy: () => 100,
    })
    io.on('error', () => {})
    await new Promise<void>((resolve, reject) => io.once('ready', resolve).once('error', reject))
    return { client: io, close: async () => io.disconnect() }
  }
  const node = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) })
  node.on('error', () => {})
  await node.connect()
  return { client: node as unknown as RedisClientLike, close: async () => node.destroy() }
}

/** `PROVIDERS` providers under a fresh prefix (a cold fleet), each with its own connection. */
async function fleet(kind: 'node-redis' | 'ioredis'): Promise<Fleet> {
  const prefix = `cluster-${++generation}:`
  const connections = await Promise.all(Array.from({ length: PROVIDERS }, () => connect(kind)))
  let key = ''
  const providers = connections.map(({ client }) => {
    const store = createRedisTokenStore({ client, prefix, commandTimeout: 1_000, outageBackoff: 500 })
    const get = store.get.bind(store)
    const spy = {
      ...store,
      get: (k: string) => {
        key = k
        return get(k)
      },
    }
    return createTokenProvider({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      store: spy,
      lockTtl: 5_000,
    })
  })
  return {
    providers,
    tokenKey: () => `${prefix}{${key}}:token`,
    close: async () => {
      await Promise.all(providers.map((p) => p.close()))
      await Promise.all(connections.map((c) => c.close()))
    },
  }
}

/** A call to the API with the token; after a 401, invalidate and replay once. */
async function call(provider: TokenProvider): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await provider.getToken()
    const response = await fetch(`${api.url}/echo`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
    })
    await response.arrayBuffer()
    if (response.status !== 401) return response.status === 200
    await provider.invalidate(token)
  }
  return false
}

async function burst(providers: TokenProvider[], perProvider: number) {
  const results = await Promise.all(
    providers.flatMap((p) => Array.from({ length: perProvider }, () => call(p).catch(() => false))),
  )
  return { ok: results.filter(Boolean).length, failed: results.filter((r) => !r).length }
}

describe.skipIf(skip)('the Redis store on a 3-node Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await startRedisCluster()
    auth = await startMockAuthServer()
    api = await startProtectedApi({ authServer: auth })
  }, 60_000)
  afterAll(async () => {
    await api?.close()
    await auth?.close()
    await cluster?.stop()
  })

  describe.each(['node-redis', 'ioredis'] as const)('with %s', (kind) => {
    it('cold fleet → 1 token request; fleet-wide 401 storm → 1', async () => {
      const { providers, close } = await fleet(kind)
      try {
        const before = auth.stats.tokenRequests
        expect(await burst(providers, 25)).toEqual({ ok: PROVIDERS * 25, failed: 0 })
        expect(auth.stats.tokenRequests - before).toBe(1)

        const beforeStorm = auth.stats.tokenRequests
        auth.revokeAll()
        expect(await burst(providers, 25)).toEqual({ ok: PROVIDERS * 25, failed: 0 })
        expect(auth.stats.tokenRequests - beforeStorm).toBe(1)
      } finally {
        await close()
      }
    })
  })

  it('the slot owner killed → 0 failed calls (ioredis and node-redis)', async () => {
    const fleets = [await fleet('node-redis'), await fleet('ioredis')]
    try {
      for (const f of fleets) expect((await burst(f.providers, 5)).failed).toBe(0)
      // both fleets' keys may live on different nodes: kill the owner of the first one's slot
      await cluster.kill(await cluster.ownerOf(fleets[0]!.tokenKey()))
      auth.revokeAll() // every provider must get a new token while its slot is gone
      for (let round = 0; round < 3; round++) {
        for (const f of fleets)
          expect(await burst(f.providers, 10)).toEqual({ ok: PROVIDERS * 10, failed: 0 })
      }
    } finally {
      await Promise.all(fleets.map((f) => f.close()))
    }
  }, 60_000)
})
