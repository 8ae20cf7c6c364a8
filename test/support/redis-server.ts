import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

/** The `redis-server` binary on PATH, if this machine has one. */
export function findRedisServer(): string | undefined {
  const candidates = [
    ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')),
    '/usr/bin/redis-server',
    '/usr/sbin/redis-server',
    '/usr/local/bin/redis-server',
  ]
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Why Redis tests skip on this machine, or `undefined` when they can run (printed once per file). */
export function redisSkipReason(file: string): string | undefined {
  if (findRedisServer()) return undefined
  const reason = `${file}: skipped, no redis-server binary (install it: apt-get install -y redis-server)`
  console.warn(reason)
  return reason
}

/** A port nobody listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A redis-server this test started on loopback: no persistence, gone when stopped. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills it with SIGKILL (a crash, as far as clients can tell) and waits for the exit. */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  /** SIGSTOP: the port stays open but nothing answers (a slow Redis). */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  stop(): Promise<void>
}

export async function startRedisServer(): Promise<RedisServer> {
  const binary = findRedisServer()
  if (!binary) throw new Error('redis-server not found')
  // The port was free a moment ago; another test run on this machine may take it first.
  let port = await freePort()
  let child: ChildProcess | undefined
  for (let attempt = 1; !child; attempt++) {
    try {
      child = await launch(binary, port)
    } catch (error) {
      if (attempt === 3) throw error
      port = await freePort()
    }
  }
  let paused = false
  const exit = async (signal: NodeJS.Signals) => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    if (paused) running.kill('SIGCONT')
    paused = false
    running.kill(signal)
    await exited
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => exit('SIGKILL'),
    async restart() {
      await exit('SIGKILL')
      child = await launch(binary, port)
    },
    pause() {
      child?.kill('SIGSTOP')
      paused = true
    },
    resume() {
      child?.kill('SIGCONT')
      paused = false
    },
    stop: () => exit('SIGTERM'),
  }
}

async function launch(binary: string, port: number): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--loglevel',
    'notice',
  ]
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`redis-server did not start: ${output.slice(-500)}`)),
      10_000,
    )
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (!output.includes('Ready to accept connections')) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      resolve()
    }
    const onExit = (code: number | null) =>
      fail(new Error(`redis-server exited (${code}): ${output.slice(-500)}`))
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', fail)
    child.once('exit', onExit)
  })
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}
