import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FleetWorker, startFleet, type Tally, type WorkerConfig } from './support/fleet.js'
import { type RedisServer, redisSkipReason, startRedisServer } from './support/redis-server.js'

// A process holding the fleet's refresh lease is killed (SIGKILL) while its refresh request is
// at the server. Its lease is a short heartbeat, so the other process takes over within lockTtl,
// not after the holder's whole attempt; the holder marked the refresh token it was redeeming, so
// the takeover never sends it again. Counted at the mock server, whose reuse detection revokes
// the whole family on the first replay.

const skip = redisSkipReason('test/redis-holder-crash.test.ts')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let redis: RedisServer
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let workers: FleetWorker[] = []
/** Token requests as the workers start them: which process, and when. */
const fetching: { pid: number; at: number }[] = []

describe.skipIf(skip)('a lease holder killed mid-refresh', () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    // 10 s tokens: refreshed ahead 5–6 s after they arrive, served until 9 s
    auth = await startMockAuthServer({ tokenLifetime: 10 })
    api = await startProtectedApi({ authServer: auth })
    workers = await startFleet(2, (pid) => fetching.push({ pid, at: Date.now() }))
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()))
    await api?.close()
    await auth?.close()
    await redis?.stop()
  })

  it('the other process gets a token within lockTtl, serves the current one meanwhile, and no refresh token is redeemed twice', async () => {
    const lockTtl = 2_000
    const config: WorkerConfig = {
      redisUrl: redis.url,
      tokenEndpoint: auth.tokenEndpoint,
      apiUrl: api.url,
      prefix: 'holder-crash:',
      lockTtl,
      commandTimeout: 2_000,
      outageBackoff: 500,
      password: { username: 'alice', password: 'alice-password' },
    }
    await Promise.all(workers.map((w) => w.ask({ type: 'configure', config })))
    // one password grant for both: the second process reads the first one's token from Redis
    for (const w of workers) expect(await w.ask({ type: 'burst', requests: 10 })).toMatchObject({ failed: 0 })
    expect(auth.stats.byGrant['password']).toBe(1)
    auth.stats.reset()
    fetching.length = 0

    auth.setLatency(6_000) // the holder's refresh hangs at the server
    const runs = workers.map((w) =>
      w.ask({ type: 'run', concurrency: 4, durationMs: 16_000 }).catch((error: Error) => error),
    )
    // the first process to refresh ahead holds the lease; it is killed once its request is at the server
    while (fetching.length === 0 || auth.stats.tokenRequests === 0) await sleep(5)
    const holder = workers.find((w) => w.pid === fetching[0]!.pid)!
    await holder.kill()
    const killedAt = Date.now()
    auth.setLatency(0)

    const survivor = workers.find((w) => w !== holder)!
    const result = (await runs[workers.indexOf(survivor)]) as Tally
    workers = [survivor]
    // the killed request is still answered by the server (it spends the holder's refresh token)
    for (let waited = 0; waited < 8_000 && auth.stats.tokensIssued < auth.stats.tokenRequests; waited += 100)
      await sleep(100)

    expect(result).toMatchObject({ failed: 0, errors: [] })
    expect(result.ok).toBeGreaterThan(100)
    // no call waited for the takeover: the current token served until the new one came
    expect(result.slowestMs).toBeLessThan(1_000)
    const takeover = fetching.find((f) => f.pid === survivor.pid)!
    expect(takeover.at - killedAt).toBeLessThan(lockTtl + 1_000)
    // the holder's refresh token was in doubt: the takeover started the grant over instead of
    // redeeming it, and the new family's refresh tokens were each redeemed once
    expect(auth.stats.refreshTokenReuse).toBe(0)
    expect(auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    expect(auth.stats.byGrant['password']).toBe(1)
    expect(auth.stats.byGrant['refresh_token']).toBeGreaterThanOrEqual(2)
    expect(auth.stats.tokensIssued).toBe(auth.stats.tokenRequests)
    console.info(
      `holder crash: takeover ${takeover.at - killedAt} ms after the kill, ${result.ok} calls (slowest ${result.slowestMs} ms), ${auth.stats.byGrant['refresh_token']} refreshes, 0 reuse`,
    )
  }, 60_000)
})
