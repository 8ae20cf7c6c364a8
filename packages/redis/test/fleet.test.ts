import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '@tokenwell/core'
import { server } from '@tokenwell/mock-server/msw'
import { createRedisTokenStore, type RedisTokenStoreOptions } from '@tokenwell/redis'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  connectClient,
  connectInspector,
  type RedisServer,
  redisSkipReason,
  startRedisServer,
  type TestClient,
} from './support.js'

// Providers in one process, each with its own Redis connection, stand in for a fleet here:
// each provider keeps its own cache, single-flight and refresh token, as a process would.
// test/redis-fleet.test.ts runs the same claims across real worker processes.

const skip = redisSkipReason('packages/redis/test/fleet.test.ts')
const tokenEndpoint = 'https://as.test/token'

let redis: RedisServer
const connections: TestClient[] = []
let run = 0

/** Token endpoint: counts requests; rotates refresh tokens and rejects spent ones (RFC 6749 §10.4). */
function mockTokenEndpoint(options: { refreshTokens?: Set<string> } = {}) {
  const state = { hits: 0, invalidGrants: 0 }
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const n = ++state.hits
      const form = new URLSearchParams(await request.text())
      const body: Record<string, unknown> = { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 300 }
      if (form.get('grant_type') === 'refresh_token') {
        const valid = options.refreshTokens!
        if (!valid.delete(form.get('refresh_token') ?? '')) {
          state.invalidGrants++
          return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
        }
        body['refresh_token'] = `rt-${n}`
        valid.add(body['refresh_token'] as string)
      }
      return HttpResponse.json(body)
    }),
  )
  return state
}

async function fleet(
  size: number,
  overrides: Partial<TokenProviderOptions> = {},
  store: Partial<RedisTokenStoreOptions> = {},
) {
  const clientId = `fleet-${++run}`
  const providers: TokenProvider[] = []
  for (let i = 0; i < size; i++) {
    const connection = await connectClient('node-redis', redis.url)
    connections.push(connection)
    providers.push(
      createTokenProvider({
        tokenEndpoint,
        clientId,
        clientSecret: 'fleet-secret',
        refreshAhead: false,
        store: createRedisTokenStore({ client: connection.client, pollInterval: 10, ...store }),
        ...overrides,
      }),
    )
  }
  return providers
}

describe.skipIf(skip)('providers sharing a Redis store', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
  })
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()))
    await redis?.stop()
  })

  it('6 providers × 50 concurrent getToken() on a cold cache: exactly 1 token request', async () => {
    const endpoint = mockTokenEndpoint()
    const providers = await fleet(6)
    const tokens = await Promise.all(providers.flatMap((p) => Array.from({ length: 50 }, () => p.getToken())))

    expect(endpoint.hits).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
  })

  it('a 401 storm across the fleet (every provider invalidates the same token) causes exactly 1 refresh', async () => {
    const endpoint = mockTokenEndpoint()
    const providers = await fleet(6)
    const stale = await providers[0]!.getToken()
    await Promise.all(providers.map((p) => p.getToken()))
    expect(endpoint.hits).toBe(1)

    const fresh = await Promise.all(
      providers.flatMap((p) =>
        Array.from({ length: 50 }, async () => {
          await p.invalidate(stale)
          return p.getToken()
        }),
      ),
    )
    expect(endpoint.hits).toBe(2)
    expect(new Set(fresh.map((t) => t.accessToken))).toEqual(new Set(['at-2']))
  })

  it('when the lease holder hangs, its lease expires and one waiter fetches for everyone', async () => {
    const endpoint = mockTokenEndpoint()
    const lockTtl = 300
    const [holder, ...waiters] = await fleet(6, { lockTtl })
    const inspector = await connectInspector(redis.url)
    // the holder's token request never gets an answer (a process stuck or gone)
    const hung = createTokenProvider({
      tokenEndpoint,
      clientId: `fleet-${run}`,
      clientSecret: 'fleet-secret',
      lockTtl,
      retry: false,
      timeout: 1_000,
      store: createRedisTokenStore({ client: (connections.at(-6) as TestClient).client }),
      fetch: (request) =>
        new Promise((_, reject) =>
          request.signal.addEventListener('abort', () => reject(request.signal.reason)),
        ),
    })
    const stuck = hung.getToken().catch((error: unknown) => error)
    while ((await inspector.keys('*:lock')).length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5))

    const tokens = await Promise.all(waiters.flatMap((p) => Array.from({ length: 20 }, () => p.getToken())))
    expect(endpoint.hits).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(holder).toBeDefined()
    await inspector.destroy()
    await stuck
  })

  it('rotating refresh tokens: each refresh redeems the newest one, whichever provider holds the lease', async () => {
    const refreshTokens = new Set(['rt-initial'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    const providers = await fleet(4, { grant: { type: 'refresh_token', refreshToken: 'rt-initial' } })

    for (let round = 0; round < 12; round++) {
      const provider = providers[round % providers.length]!
      const token = await provider.getToken()
      expect(token.accessToken).toBe(`at-${round + 1}`)
      await provider.invalidate(token) // the next provider must refresh, with the token this one got
    }
    // a process started later, configured with the long-spent initial refresh token
    const clientId = `fleet-${run}`
    const [late] = await fleet(1, { grant: { type: 'refresh_token', refreshToken: 'rt-initial' }, clientId })
    expect((await late!.getToken()).accessToken).toBe('at-13')

    expect(endpoint.invalidGrants).toBe(0)
    expect(endpoint.hits).toBe(13)
  })

  it('a holder whose lease runs out mid-refresh still stores its answer; the one that took over waits for it', async () => {
    // the holder's heartbeats are lost (a stalled event loop, a partition): its 150 ms lease
    // runs out while its refresh is answered after 600 ms
    const refreshTokens = new Set(['rt-initial'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    server.use(
      http.post(
        tokenEndpoint,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 600))
          return undefined // on to the counting endpoint
        },
        { once: true },
      ),
    )
    const grant = { type: 'refresh_token', refreshToken: 'rt-initial' } as const
    const [other] = await fleet(1, { grant }, { lockTtl: 150 })
    const connection = await connectClient('node-redis', redis.url)
    connections.push(connection)
    const redisStore = createRedisTokenStore({ client: connection.client, pollInterval: 10, lockTtl: 150 })
    const stalled = createTokenProvider({
      tokenEndpoint,
      clientId: `fleet-${run}`,
      clientSecret: 'fleet-secret',
      refreshAhead: false,
      grant,
      store: {
        ...redisStore,
        async acquireLease(key, ttl) {
          const lease = await redisStore.acquireLease(key, ttl)
          return lease && Object.assign(lease, { extend: async () => true }) // never reaches Redis
        },
      },
    })
    const stalledToken = stalled.getToken()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const otherToken = other!.getToken()
    const [a, b] = await Promise.all([stalledToken, otherToken])
    expect(a.accessToken).toBe('at-1')
    expect(b.accessToken).toBe('at-1') // the stalled holder's answer, not a second redemption
    expect(endpoint).toMatchObject({ hits: 1, invalidGrants: 0 })
    expect([...refreshTokens]).toEqual(['rt-1'])
  })
})

describe.skipIf(skip)('a slow or stopped Redis', () => {
  let slow: RedisServer
  beforeAll(async () => {
    slow = await startRedisServer()
  })
  afterAll(async () => {
    slow?.resume()
    await slow?.stop()
  })
  beforeEach(() => slow.resume())

  it('never stalls getToken(): commands time out, the provider fetches alone and reports store-error', async () => {
    const endpoint = mockTokenEndpoint()
    const connection = await connectClient('node-redis', slow.url)
    connections.push(connection)
    const options = { tokenEndpoint, clientId: `slow-${++run}`, clientSecret: 's', refreshAhead: false }
    const store = createRedisTokenStore({
      client: connection.client,
      commandTimeout: 150,
      outageBackoff: 200,
    })
    const provider = createTokenProvider({ ...options, store })
    const errors: { operation: string; error: unknown }[] = []
    provider.on('store-error', (event) => errors.push(event))

    slow.pause() // the port stays open, nothing answers
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(endpoint.hits).toBe(1)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]).toMatchObject({ operation: 'get', error: { code: 'ERR_STORE' } })
    expect(String((errors[0]!.error as Error).message)).toMatch(/timed out after 150 ms/)

    // back to the shared cache once Redis answers again
    slow.resume()
    await new Promise((resolve) => setTimeout(resolve, 250)) // outageBackoff
    await provider.invalidate(tokens[0]!)
    const fresh = await provider.getToken()
    expect(endpoint.hits).toBe(2)
    const other = createTokenProvider({
      ...options,
      store: createRedisTokenStore({ client: connection.client }),
    })
    const sources: string[] = []
    other.on('token', (event) => sources.push(event.source))
    expect((await other.getToken()).accessToken).toBe(fresh.accessToken)
    expect(sources).toEqual(['store'])
    expect(endpoint.hits).toBe(2)
  })

  it('hands back a lock that Redis granted after the command had timed out', async () => {
    const connection = await connectClient('ioredis', slow.url)
    connections.push(connection)
    const inspector = await connectInspector(slow.url)
    const store = createRedisTokenStore({ client: connection.client, commandTimeout: 100 })

    slow.pause()
    await expect(store.acquireLease('tokenwell:late', 60_000)).rejects.toMatchObject({ code: 'ERR_STORE' })
    slow.resume()
    let locks = ['pending']
    for (let i = 0; i < 100 && locks.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      locks = await inspector.keys('*:lock')
    }
    expect(locks).toEqual([])
    await inspector.destroy()
  })
})
