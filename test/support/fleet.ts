import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What one worker process of the fleet is told to build: its own Redis client, store and provider. */
export interface WorkerConfig {
  redisUrl: string
  tokenEndpoint: string
  apiUrl: string
  /** A fresh prefix means fresh Redis keys: a cold fleet. */
  prefix: string
  lockTtl: number
  commandTimeout: number
  outageBackoff: number
  /** Redeem this refresh token (a `refresh_token` grant) instead of client credentials. */
  refreshToken?: string
  /** A `password` grant (its refresh tokens redeemed once it has them) instead of client credentials. */
  password?: { username: string; password: string }
  /** The provider's `scope` (a cache key of its own). @default none */
  scope?: string
  /** The provider's `timeout`, ms. @default the provider's default */
  timeout?: number
  /** A Redis Cluster instead of one server: its nodes' URLs, and which client to use. */
  cluster?: { urls: string[]; client: 'node-redis' | 'ioredis' }
}

export type FleetCommand =
  | { type: 'configure'; id: number; config: WorkerConfig }
  | { type: 'burst'; id: number; requests: number }
  | { type: 'run'; id: number; concurrency: number; durationMs: number }
  | { type: 'probe'; id: number }

export interface Tally {
  ok: number
  failed: number
  /** The first few failure messages. */
  errors: string[]
  /** `store-error` events the provider emitted since it was configured. */
  storeErrors: number
  /** The longest call, ms (token and API request). */
  slowestMs?: number
}

export type FleetReply =
  | { type: 'ready'; pid: number }
  | { type: 'fetching'; pid: number }
  | ({ type: 'done'; id: number } & Tally)

/** A command without its id (each variant keeps its own fields). */
type Request = FleetCommand extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never

export interface FleetWorker {
  readonly pid: number
  ask(command: Request): Promise<Tally>
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>
}

const workerPath = fileURLToPath(new URL('./redis-fleet-worker.ts', import.meta.url))
const testDir = fileURLToPath(new URL('..', import.meta.url))
const rootTsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url))

/**
 * Starts `size` worker processes. They run the TypeScript sources through tsx (resolved from
 * test/, with the root tsconfig's paths), so no build is needed.
 */
export async function startFleet(size: number, onFetching: (pid: number) => void): Promise<FleetWorker[]> {
  return Promise.all(Array.from({ length: size }, () => startWorker(onFetching)))
}

async function startWorker(onFetching: (pid: number) => void): Promise<FleetWorker> {
  const child: ChildProcess = fork(workerPath, [], {
    cwd: testDir,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TSX_TSCONFIG_PATH: rootTsconfig },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (tally: Tally) => void; reject: (error: Error) => void }>()
  let nextId = 0
  const ready = new Promise<void>((resolve, reject) => {
    // generous: tsx compiles the sources at start, and CI machines are shared
    const timer = setTimeout(() => reject(new Error('fleet worker did not start within 90 s')), 90_000)
    child.on('message', (reply: FleetReply) => {
      if (reply.type === 'ready') {
        clearTimeout(timer)
        resolve()
      } else if (reply.type === 'fetching') onFetching(reply.pid)
      else {
        const { type: _, id, ...tally } = reply
        pending.get(id)?.resolve(tally)
        pending.delete(id)
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const error = new Error(`fleet worker exited (${signal ?? code})`)
      reject(error)
      for (const { reject: fail } of pending.values()) fail(error)
      pending.clear()
    })
  })
  await ready
  return {
    pid: child.pid!,
    ask(command) {
      const id = ++nextId
      return new Promise<Tally>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        child.send({ ...command, id })
      })
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** What a fleet's tallies add up to: calls that succeeded and failed, and every error seen. */
export const totals = (tallies: Tally[]) => ({
  ok: tallies.reduce((sum, t) => sum + t.ok, 0),
  failed: tallies.reduce((sum, t) => sum + t.failed, 0),
  errors: tallies.flatMap((t) => t.errors),
})
