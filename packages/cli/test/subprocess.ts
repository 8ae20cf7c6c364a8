import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const outdir = join(tmpdir(), `tokenwell-cli-test-${process.pid}-${Date.now()}`)
let bundled: Promise<string> | undefined

/** Removes the bundle; call it in `afterAll`. */
export function removeBundle(): void {
  rmSync(outdir, { recursive: true, force: true })
}

/**
 * The CLI's sources (and the workspace packages they import, by the root tsconfig's `paths`)
 * bundled once into one self-contained bin, so each child starts in milliseconds with no build step.
 */
function bin(): Promise<string> {
  bundled ??= build({
    entryPoints: { bin: fileURLToPath(new URL('../src/bin.ts', import.meta.url)) },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    tsconfig: `${root}tsconfig.json`,
    logLevel: 'error',
    // CommonJS dependencies (axios' node build) call require()
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  }).then(() => join(outdir, 'bin.mjs'))
  return bundled
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `tokenwell …args` as a child process. */
export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const file = await bin()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      cwd: root,
      // a clean environment: only what the test passes, so no inherited secret can leak in
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
}

/** A running `tokenwell` child: watch its stderr while it runs, then await its result. */
export interface RunningCli {
  /** Resolves with the first match of `pattern` in stderr so far or to come; rejects if the child exits first. */
  stderrMatch(pattern: RegExp): Promise<RegExpMatchArray>
  readonly result: Promise<CliResult>
  kill(): void
}

/** Starts `tokenwell …args` as a child process and returns at once (for commands that wait on the user). */
export async function startCli(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<RunningCli> {
  const file = await bin()
  const child = spawn(process.execPath, [file, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const watcher of watchers) watcher()
  })
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      resolve({ code, stdout, stderr })
      for (const watcher of watchers) watcher()
    })
  })
  child.stdin.end(options.stdin ?? '')
  return {
    stderrMatch(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stderr.match(pattern)
          if (match) {
            watchers.delete(check)
            resolve(match)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            watchers.delete(check)
            reject(new Error(`tokenwell exited (${child.exitCode}) before printing ${pattern}:\n${stderr}`))
          }
        }
        watchers.add(check)
        check()
      })
    },
    result,
    kill: () => void child.kill(),
  }
}
