import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FleetWorker, startFleet, totals } from './support/fleet.js'
import { type RedisServer, redisSkipReason, startRedisServer } from './support/redis-server.js'
import { firstRefreshToken } from './support/servers.js'

// Rule 4 across real processes that share Redis but not a cache key: 3 workers are given one
// refresh token, each with its own scope, so no cache-key lease or stored refresh token is
// shared; only the store's family keys (core store-families.ts) are. Counted at the mock server,
// which spends a refresh token on its first redemption and counts every later one as reuse.

const skip = redisSkipReason('test/redis-family.test.ts')
const SCOPES = ['orders:read', 'orders:write', 'profile']
let redis: RedisServer
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let workers: FleetWorker[] = []

describe.skipIf(skip)('3 processes, one refresh token, 3 scopes, through Redis', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    // 4 s tokens: each process refreshes every ~2 s, each refresh answered in 300 ms
    auth = await startMockAuthServer({ tokenLifetime: 4 })
    api = await startProtectedApi({ authServer: auth })
    workers = await startFleet(SCOPES.length, () => {})
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()))
    await api?.close()
    await auth?.close()
    await redis?.stop()
  })

  it('refreshing for 8 s: every refresh token redeemed exactly once, 0 reuse, 0 invalid_grant, 0 failed calls', async () => {
    const refreshToken = await firstRefreshToken(auth.tokenEndpoint, SCOPES.join(' '))
    auth.stats.reset()
    auth.setLatency(300)
    await Promise.all(
      workers.map((w, i) =>
        w.ask({
          type: 'configure',
          config: {
            redisUrl: redis.url,
            tokenEndpoint: auth.tokenEndpoint,
            apiUrl: api.url,
            prefix: 'family:',
            lockTtl: 2_000,
            commandTimeout: 2_000,
            outageBackoff: 500,
            refreshToken,
            scope: SCOPES[i]!,
          },
        }),
      ),
    )

    const tallies = await Promise.all(
      workers.map((w) => w.ask({ type: 'run', concurrency: 3, durationMs: 8_000 })),
    )

    const result = totals(tallies)
    // the providers keep refreshing ahead after the run: wait until no token request is in flight
    for (let waited = 0; waited < 3_000 && auth.stats.tokensIssued < auth.stats.tokenRequests; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100))
    const refreshes = auth.stats.byGrant['refresh_token'] ?? 0
    console.info(
      `family fleet: ${result.ok} calls, ${result.failed} failed, ${refreshes} refreshes, ` +
        `${auth.stats.refreshTokenReuse} reuse, ${auth.stats.byError['invalid_grant'] ?? 0} invalid_grant`,
    )
    expect(auth.stats.refreshTokenReuse).toBe(0)
    expect(auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    expect(result).toMatchObject({ failed: 0, errors: [] })
    expect(result.ok).toBeGreaterThan(100)
    // each process refreshed several times, each time with the newest of the family: the server
    // spends a refresh token on its first redemption, so none was presented twice
    expect(refreshes).toBeGreaterThanOrEqual(2 * SCOPES.length)
    expect(auth.stats.tokensIssued).toBe(auth.stats.tokenRequests)
  }, 40_000)
})
