import type { CliIo } from './cli-io.js'

export interface DemoOptions {
  calls?: number
  tokenLifetime?: number
}
export interface DemoReport {
  ok: boolean
}
export async function runDemo(io: CliIo, _options: DemoOptions = {}): Promise<DemoReport> {
  io.stdout.write('demo: not yet\n')
  return { ok: true }
}
