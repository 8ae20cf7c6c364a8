// One process of the fleet in test/redis-fleet.test.ts: its own Redis connection, store and
// provider, driven over IPC. Run with `node --import tsx` (sources, no build).
import { Agent, request as httpRequest } from 'node:http'
import { createTokenProvider, type TokenProvider } from '@tokenwell/core'
import { createRedisTokenStore, type RedisClientLike, type RedisTokenStore } from '@tokenwell/redis'
import { createClient } from 'redis'
import type { FleetCommand, FleetReply, WorkerConfig } from './fleet.js'

const send = (reply: FleetReply) => process.send?.(reply)
const agent = new Agent({ keepAlive: true, maxSockets: 16 })
let client: ReturnType<typeof createClient> | undefined
let provider: TokenProvider | undefined
let store: RedisTokenStore | undefined
let config: WorkerConfig | undefined
let storeErrors = 0

let cluster: RedisClientLike | undefined

/** A node-redis or ioredis cluster client, made once, when the config names a cluster. */
async function clusterClient(next: WorkerConfig): Promise<RedisClientLike | undefined> {
  if (!next.cluster || cluster) return cluster
  const { urls } = next.cluster
  if (next.cluster.client === 'ioredis') {
    // loaded only by a cluster fleet: 8 workers start faster without it
    const { Cluster } = await import('ioredis')
    const nodes = urls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) }))
    const io = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } })
    io.on('error', () => {})
    cluster = io
  } else {
    const { createCluster } = await import('redis')
    const node = createCluster({ rootNodes: urls.map((url) => ({ url })) })
    node.on('error', () => {})
    await node.connect()
    cluster = node as unknown as RedisClientLike
  }
  return cluster
}

async function configure(next: WorkerConfig): Promise<void> {
  await provider?.close()
  if (!client && !next.cluster) {
    // node-redis reports every lost connection as an 'error' event; it reconnects by itself
    client = await createClient({ url: next.redisUrl })
      .on('error', () => {})
      .connect()
  }
  config = next
  storeErrors = 0
  store = createRedisTokenStore({
    client: (await clusterClient(next)) ?? (client as RedisClientLike),
    prefix: next.prefix,
    commandTimeout: next.commandTimeout,
    outageBackoff: next.outageBackoff,
  })
  provider = createTokenProvider({
    tokenEndpoint: next.tokenEndpoint,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    lockTtl: next.lockTtl,
    ...(next.refreshToken !== undefined && {
      grant: { type: 'refresh_token' as const, refreshToken: next.refreshToken },
    }),
    ...(next.password !== undefined && { grant: { type: 'password' as const, ...next.password } }),
    ...(next.timeout !== undefined && { timeout: next.timeout }),
    ...(next.scope !== undefined && { scope: next.scope }),
    store,
    fetch: (request) => {
      send({ type: 'fetching', pid: process.pid }) // lets the test kill the lease holder mid-request
      return fetch(request)
    },
  })
  provider.on('store-error', () => storeErrors++)
}

/** GET /echo with the token; after a 401, invalidate that token and replay once (the adapter policy). */
async function call(): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await provider!.getToken()
    const status = await get(`${config!.apiUrl}/echo`, `${token.tokenType} ${token.accessToken}`)
    if (status !== 401) return status === 200
    await provider!.invalidate(token)
  }
  return false
}

function get(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers: { authorization } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

interface Tally {
  ok: number
  failed: number
  errors: string[]
  slowestMs?: number
}

async function tallied(tally: Tally): Promise<void> {
  const started = Date.now()
  try {
    if (await call()) tally.ok++
    else tally.failed++
  } catch (error) {
    tally.failed++
    if (tally.errors.length < 5)
      tally.errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
  } finally {
    tally.slowestMs = Math.max(tally.slowestMs ?? 0, Date.now() - started)
  }
}

/** `requests` calls, all started at once. */
async function burst(requests: number): Promise<Tally> {
  const tally: Tally = { ok: 0, failed: 0, errors: [] }
  await Promise.all(Array.from({ length: requests }, () => tallied(tally)))
  return tally
}

/** `concurrency` lanes of back-to-back calls for `durationMs`. */
async function run(concurrency: number, durationMs: number): Promise<Tally> {
  const tally: Tally = { ok: 0, failed: 0, errors: [] }
  const until = Date.now() + durationMs
  const lane = async () => {
    while (Date.now() < until) await tallied(tally)
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  return tally
}

process.on('message', async (command: FleetCommand) => {
  switch (command.type) {
    case 'configure':
      await configure(command.config)
      return send({ type: 'done', id: command.id, ok: 0, failed: 0, errors: [], storeErrors })
    case 'burst':
      return send({ type: 'done', id: command.id, ...(await burst(command.requests)), storeErrors })
    case 'run':
      return send({
        type: 'done',
        id: command.id,
        ...(await run(command.concurrency, command.durationMs)),
        storeErrors,
      })
    case 'probe': {
      // a store round trip that succeeds once Redis is reachable and the store no longer skips it
      const healthy = await store!.get('tokenwell:probe').then(
        () => true,
        () => false,
      )
      return send({
        type: 'done',
        id: command.id,
        ok: healthy ? 1 : 0,
        failed: healthy ? 0 : 1,
        errors: [],
        storeErrors,
      })
    }
  }
})
send({ type: 'ready', pid: process.pid })
