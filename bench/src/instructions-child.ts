// One side of the instruction-count comparison (see instructions.ts), run under valgrind: the
// servers in a child process valgrind does not trace, then `BENCH_WARMUP` (2,000) + `requests` sequential
// requests through one subject with a warm token. Startup cancels out between two request counts.
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
for (let i = 0; i < warmup + requests; i++) {
  const status = await subject.request()
  if (status !== 200) throw new Error(`${spec.id}: HTTP ${status}`)
}
await subject.close()
await closePool()
await servers.close()
