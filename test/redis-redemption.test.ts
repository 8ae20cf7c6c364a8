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

// Rule 4 across real processes: 3 workers redeem one rotating refresh token through Redis while
// the token endpoint answers slower than the lease's TTL. Counted at the mock server, whose
// reuse detection revokes the whole family on the first replay.

const skip = redisSkipReason('test/redis-redemption.test.ts')
let redis: RedisServer
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let workers: FleetWorker[] = []

describe.skipIf(skip)('3 processes redeeming one rotating refresh token through Redis', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    // 4 s tokens: a refresh every ~2 s, each answered in 600 ms, three times the 200 ms lockTtl
    auth = await startMockAuthServer({ tokenLifetime: 4 })
    api = await startProtectedApi({ authServer: auth })
    workers = await startFleet(3, () => {})
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()))
    await api?.close()
    await auth?.close()
    await redis?.stop()
  })

  it('lockTtl 200 ms, refreshes answered in 600 ms: every refresh token redeemed exactly once, 0 failed calls', async () => {
    const refreshToken = await firstRefreshToken(auth.tokenEndpoint)
    auth.stats.reset()
    auth.setLatency(600)
    const config = {
      redisUrl: redis.url,
      tokenEndpoint: auth.tokenEndpoint,
      apiUrl: api.url,
      prefix: 'redemption:',
      lockTtl: 200,
      commandTimeout: 2_000,
      outageBackoff: 500,
      refreshToken,
    }
    await Promise.all(workers.map((w) => w.ask({ type: 'configure', config })))

    const tallies = await Promise.all(
      workers.map((w) => w.ask({ type: 'run', concurrency: 4, durationMs: 9_000 })),
    )

    const result = totals(tallies)
    // the providers keep refreshing ahead after the run: wait until no token request is in flight
    // (a request answered with an error never catches up, and fails the count below)
    for (let waited = 0; waited < 3_000 && auth.stats.tokensIssued < auth.stats.tokenRequests; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100))
    expect(result).toMatchObject({ failed: 0, errors: [] })
    expect(result.ok).toBeGreaterThan(100)
    expect(auth.stats.refreshTokenReuse).toBe(0)
    expect(auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    // each refresh redeemed the newest token once: every request issued a token
    const refreshes = auth.stats.byGrant['refresh_token'] ?? 0
    expect(refreshes).toBeGreaterThanOrEqual(3)
    expect(auth.stats.tokensIssued).toBe(auth.stats.tokenRequests)
    console.info(`redemption fleet: ${result.ok} calls, ${refreshes} refreshes, 0 reuse, 0 invalid_grant`)
  }, 30_000)
})
