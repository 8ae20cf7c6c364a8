import { parseArgs } from 'node:util'
import type { CliIo } from './cli-io.js'
import { runDemo } from './demo.js'
import { UsageError } from './usage-error.js'

/** `tokenwell demo`: parses its options and runs the demo (`demo`, for tests). Resolves to the exit code. */
export async function runDemoCommand(argv: readonly string[], io: CliIo, demo = runDemo): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new UsageError((error as Error).message, 'demo')
  }
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError('demo takes no positional arguments', 'demo')
  const calls = values.calls === undefined ? undefined : Number(values.calls)
  if (calls !== undefined && (!Number.isInteger(calls) || calls < 1 || calls > 10_000)) {
    throw new UsageError('--calls must be a whole number from 1 to 10000', 'demo')
  }
  const report = await demo(io, { calls })
  return report.ok ? 0 : 1
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      calls: { type: 'string' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
}
