import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BenchControl, BenchServerOptions, BenchServers } from './servers.js'

interface Reply {
  id?: number
  result?: unknown
  error?: string
  ready?: { tokenEndpoint: string; issuer: string; apiUrl: string }
}

/**
 * Starts the bench servers in a child process (it inherits this process's `--import tsx`) and
 * controls them over IPC, so the servers and the clients under test each have a core.
 */
export async function startRemoteBenchServers(options: BenchServerOptions = {}): Promise<BenchServers> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), {
    env: { ...process.env, BENCH_SERVER_OPTIONS: JSON.stringify(options) },
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 0
  const ready = new Promise<NonNullable<Reply['ready']>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server process exited (${code})`)))
    child.on('message', (reply: Reply) => {
      if (reply.ready) return resolve(reply.ready)
      const call = pending.get(reply.id!)
      pending.delete(reply.id!)
      if (reply.error !== undefined) call?.reject(new Error(reply.error))
      else call?.resolve(reply.result)
    })
  })
  const call = (method: keyof BenchControl | 'close', ...args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      child.send({ id, method, args })
    })
  const { tokenEndpoint, issuer, apiUrl } = await ready
  const control = {
    reset: () => call('reset'),
    tokenRequests: () => call('tokenRequests'),
    tokenSpans: () => call('tokenSpans'),
    apiStats: () => call('apiStats'),
    revokeAll: () => call('revokeAll'),
    setLatency: (ms: number) => call('setLatency', ms),
    setTokenLifetime: (seconds: number) => call('setTokenLifetime', seconds),
  } as BenchControl
  return {
    tokenEndpoint,
    issuer,
    apiUrl,
    control,
    async close() {
      child.removeAllListeners('exit')
      await call('close')
    },
  }
}
