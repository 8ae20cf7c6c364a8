import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findRedisServer, freePort } from './redis-server.js'

const run = promisify(execFile)

/** A 3-node Redis Cluster (3 masters, no replicas) this test started on loopback. */
export interface RedisCluster {
  readonly urls: string[]
  /** The URL of the node that owns `key`'s hash slot. */
  ownerOf(key: string): Promise<string>
  /** SIGKILLs the node at `url`, as a crash would. */
  kill(url: string): Promise<void>
  stop(): Promise<void>
}

/** Why cluster tests skip here, or `undefined` when they can run (printed once per file). */
export function clusterSkipReason(file: string): string | undefined {
  const reason = !findRedisServer()
    ? 'no redis-server binary (apt-get install -y redis-server)'
    : !findRedisCli()
      ? 'no redis-cli binary (it ships with redis-server)'
      : undefined
  if (reason) console.warn(`${file}: skipped, ${reason}`)
  return reason
}

function findRedisCli(): string | undefined {
  const server = findRedisServer()
  return server ? server.replace(/redis-server$/, 'redis-cli') : undefined
}

/**
 * Starts 3 `redis-server --cluster-enabled yes` on free loopback ports and joins them with
 * `redis-cli --cluster create`; resolves once every node reports `cluster_state:ok`. A slot
 * whose owner dies stays down (no replica), and the others keep serving (full coverage off).
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const server = findRedisServer()!
  const cli = findRedisCli()!
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const nodes = new Map<number, ChildProcess>()
  for (const port of ports) {
    const child = spawn(
      server,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '1000',
        '--cluster-require-full-coverage',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    )
    nodes.set(port, child)
  }
  const cliArgs = (port: number, ...args: string[]) => ['-h', '127.0.0.1', '-p', String(port), ...args]
  await waitFor(async () => {
    for (const port of ports) await run(cli, cliArgs(port, 'PING'))
    return true
  })
  await run(cli, [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  await waitFor(async () => {
    for (const port of ports) {
      const { stdout } = await run(cli, cliArgs(port, 'CLUSTER', 'INFO'))
      if (!stdout.includes('cluster_state:ok')) return false
    }
    return true
  })
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`)
  const kill = async (port: number) => {
    const child = nodes.get(port)
    nodes.delete(port)
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
  return {
    urls,
    async ownerOf(key) {
      const alive = [...nodes.keys()][0]!
      const { stdout } = await run(cli, cliArgs(alive, 'CLUSTER', 'KEYSLOT', key))
      const slot = Number(stdout.trim())
      const { stdout: shards } = await run(cli, cliArgs(alive, '--json', 'CLUSTER', 'SLOTS'))
      const ranges = JSON.parse(shards) as [number, number, [string, number]][]
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]
      return `redis://127.0.0.1:${owner}`
    },
    kill: (url) => kill(Number(new URL(url).port)),
    async stop() {
      await Promise.all([...nodes.keys()].map(kill))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function waitFor(check: () => Promise<boolean>, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > deadline) throw new Error('redis cluster did not become ready')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
