// One side of the instruction-count comparison (see instructions.ts), run under callgrind: the
// servers in a child process valgrind does not trace, then `BENCH_WARMUP` (2,000) warm-up and
// `requests` measured sequential requests through one subject with a warm token, counted alone.
import { execFileSync } from 'node:child_process'
import { fetchStaticToken } from './overhead.js'
import { startRemoteBenchServers } from './remote-servers.js'
import { BARE, type HttpClient, MINIMAL, TOKENWELL, useFetchPool } from './subjects.js'

const SIDES = { bare: BARE, minimal: MINIMAL, tokenwell: TOKENWELL }
const [client, side, count] = process.argv.slice(2) as [HttpClient, keyof typeof SIDES, string]
const requests = Number(count)

const servers = await startRemoteBenchServers()
const staticToken = await fetchStaticToken(servers)
const closePool = useFetchPool(4)
const spec = SIDES[side][client]
const subject = spec.create({ ...servers, connections: 4, staticToken })
const warmup = Number(process.env['BENCH_WARMUP'] ?? 2000)
/** Under callgrind with `--instr-atstart=no`: count from here on only (a no-op elsewhere). */
const instrument = (on: boolean) => {
  if (process.env['BENCH_CALLGRIND'] === '1')
    execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], { stdio: 'ignore' })
}
for (let i = 0; i < warmup + requests; i++) {
  if (i === warmup) {
    ;(globalThis as { gc?: () => void }).gc?.() // start on a clean heap (with --expose-gc)
    instrument(true)
  }
  const status = await subject.request()
  if (status !== 200) throw new Error(`${spec.id}: HTTP ${status}`)
}
instrument(false)
await subject.close()
await closePool()
await servers.close()
