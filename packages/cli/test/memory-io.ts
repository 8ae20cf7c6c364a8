import type { CliIo } from '../src/index.js'
import { main } from '../src/index.js'

/** An in-memory `CliIo`: stdin holds `stdin`, writes are collected. */
export function memoryIo(options: { env?: Record<string, string>; stdin?: string } = {}) {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    stdin: (async function* () {
      if (options.stdin !== undefined) yield new TextEncoder().encode(options.stdin)
    })(),
    env: options.env ?? {},
  }
  return { io, stdout: () => out.join(''), stderr: () => err.join('') }
}

/** Runs `main(argv)` in-process and returns the exit code and what was written. */
export async function run(argv: readonly string[], options: Parameters<typeof memoryIo>[0] = {}) {
  const { io, stdout, stderr } = memoryIo(options)
  const code = await main(argv, io)
  return { code, stdout: stdout(), stderr: stderr() }
}
