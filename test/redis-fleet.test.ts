import {
  type RunningMockAuthServer,
  type RunningProtectedApi,
  startMockAuthServer,
  startProtectedApi,
} from '@tokenwell/mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FleetWorker, startFleet, type Tally, type WorkerConfig } from './support/fleet.js'
import { type RedisServer, redisSkipReason, startRedisServer } from './support/redis-server.js'

// 8 worker processes, each with its own Redis connection, store and provider, share one token
// through a real redis-server. Every claim is counted at the authorization server.

const skip = redisSkipReason('test/redis-fleet.test.ts')
const FLEET = 8
const REQUESTS = 200

let redis: RedisServer
let auth: RunningMockAuthServer
let api: RunningProtectedApi
let workers: FleetWorker[] = []
/** Token requests as the workers start them: which process, and when. */
const fetching: { pid: number; at: number }[] = []
let generation = 0

/** Every worker builds a fresh provider and store under a fresh prefix: a cold fleet. */
async function configure(overrides: Partial<WorkerConfig> = {}): Promise<void> {
  const config: WorkerConfig = {
    redisUrl: redis.url,
    tokenEndpoint: auth.tokenEndpoint,
    apiUrl: api.url,
    prefix: `fleet-${++generation}:`,
    lockTtl: 5_000,
    // generous: 8 processes on 2 CI cores; a slow command would make a process fetch on its own
    commandTimeout: 2_000,
    outageBackoff: 500,
    ...overrides,
  }
  await Promise.all(workers.map((w) => w.ask({ type: 'configure', config })))
}

function totals(tallies: Tally[]) {
  return {
    ok: tallies.reduce((sum, t) => sum + t.ok, 0),
    failed: tallies.reduce((sum, t) => sum + t.failed, 0),
    errors: tallies.flatMap((t) => t.errors),
  }
}

const burst = (fleet: FleetWorker[], requests = REQUESTS) =>
  Promise.all(fleet.map((w) => w.ask({ type: 'burst', requests })))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(skip)(`a fleet of ${FLEET} processes sharing one token through Redis`, () => {
  beforeAll(async () => {
    redis = await startRedisServer()
    auth = await startMockAuthServer()
    api = await startProtectedApi({ authServer: auth })
    workers = await startFleet(FLEET, (pid) => fetching.push({ pid, at: Date.now() }))
  })
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()))
    await api?.close()
    await auth?.close()
    await redis?.stop()
  })

  it(`cold fleet: ${FLEET} processes × ${REQUESTS} concurrent requests → exactly 1 token request`, async () => {
    await configure()
    const before = auth.stats.tokenRequests

    const result = totals(await burst(workers))

    expect(result).toEqual({ ok: FLEET * REQUESTS, failed: 0, errors: [] })
    expect(auth.stats.tokenRequests - before).toBe(1)
  })

  it('a fleet-wide 401 storm (every request carries the revoked token) → exactly 1 token request', async () => {
    await configure()
    await burst(workers, 10)
    const before = auth.stats.tokenRequests
    const unauthorizedBefore = api.stats.unauthorized

    auth.revokeAll()
    const result = totals(await burst(workers))

    expect(result).toEqual({ ok: FLEET * REQUESTS, failed: 0, errors: [] })
    expect(api.stats.unauthorized - unauthorizedBefore).toBe(FLEET * REQUESTS)
    expect(auth.stats.tokenRequests - before).toBe(1)
  })

  it('Redis killed mid-run → 0 failed requests, degradation reported, one shared token again once it is back', async () => {
    await configure()
    await burst(workers, 10)
    const before = auth.stats.tokenRequests

    const running = Promise.all(
      workers.map((w) => w.ask({ type: 'run', concurrency: 20, durationMs: 2_500 })),
    )
    await sleep(500)
    await redis.kill()
    await sleep(300)
    auth.revokeAll() // every process must get a new token while Redis is down
    const tallies = await running

    expect(totals(tallies)).toMatchObject({ failed: 0, errors: [] })
    for (const tally of tallies) expect(tally.storeErrors).toBeGreaterThan(0)
    // each process fell back to its own single-flight: at most one token request per process
    const duringOutage = auth.stats.tokenRequests - before
    expect(duringOutage).toBeGreaterThanOrEqual(1)
    expect(duringOutage).toBeLessThanOrEqual(FLEET)

    await redis.restart()
    // wait until every process reaches Redis again (node-redis reconnects with backoff)
    for (let healthy = 0; healthy < FLEET; ) {
      await sleep(100)
      healthy = totals(await Promise.all(workers.map((w) => w.ask({ type: 'probe' })))).ok
    }
    const afterOutage = auth.stats.tokenRequests
    auth.revokeAll()
    expect(totals(await burst(workers))).toMatchObject({ failed: 0 })
    expect(auth.stats.tokenRequests - afterOutage).toBe(1)
  })

  it('lock holder killed while fetching → the fleet recovers within lockTtl, with 1 more token request', async () => {
    const lockTtl = 2_000
    await configure({ lockTtl })
    const before = auth.stats.tokenRequests
    fetching.length = 0
    auth.setLatency(lockTtl + 2_000) // the holder's token request hangs at the server

    const bursts = workers.map((w) =>
      w.ask({ type: 'burst', requests: REQUESTS }).catch((error: Error) => error),
    )
    while (fetching.length === 0 || auth.stats.tokenRequests === before) await sleep(5)
    const holder = workers.find((w) => w.pid === fetching[0]!.pid)!
    await holder.kill()
    const killedAt = Date.now()
    auth.setLatency(0)

    const survivors = workers.filter((w) => w !== holder)
    const results = await Promise.all(bursts.filter((_, i) => workers[i] !== holder))
    workers = survivors

    expect(totals(results as Tally[])).toEqual({ ok: (FLEET - 1) * REQUESTS, failed: 0, errors: [] })
    expect(fetching).toHaveLength(2) // the holder, then exactly one process that took over
    expect(auth.stats.tokenRequests - before).toBe(2)
    // the holder took its lock before it was killed, so it expired less than lockTtl after the
    // kill; a waiter takes over at its next poll (every ~40 ms)
    expect(fetching[1]!.at - killedAt).toBeLessThan(lockTtl + 500)
  })
})
