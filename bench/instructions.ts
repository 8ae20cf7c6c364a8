// `pnpm --filter @tokenwell/bench instructions [client…]`: instructions the client process
// executes per request with a warm token, adapter against bare client and the minimal
// interceptor, counted by valgrind rather than timed: counts do not move with other work on a
// shared machine. callgrind starts with counting off; the child turns it on after 1,500 warm-up
// requests (`callgrind_control -i on`) and off after 1,000 measured ones, so startup, module
// loading and JIT warm-up stay out. V8 runs single-threaded (no background compiler or GC
// threads). About half a minute per side: not part of `pnpm bench`.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLIENTS = ['axios', 'got', 'fetch', 'undici', 'ky']
const clients = process.argv.slice(2).filter((a) => CLIENTS.includes(a))
const child = fileURLToPath(new URL('./src/instructions-child.ts', import.meta.url))

const REQUESTS = 1000

/** Instructions per measured request of one side, as callgrind collected them. */
function perRequest(client: string, side: string): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--callgrind-out-file=/dev/null',
      'node',
      '--single-threaded',
      '--expose-gc',
    ].concat(['--import', 'tsx', child, client, side, String(REQUESTS)]),
    { encoding: 'utf8', env: { ...process.env, BENCH_CALLGRIND: '1', BENCH_WARMUP: '1500' } },
  )
  const collected = /Collected\s*:\s*(\d+)/.exec(run.stderr)?.[1]
  if (run.status !== 0 || collected === undefined)
    throw new Error(`${client} ${side}: ${run.stderr.slice(-500)}`)
  return Number(collected) / REQUESTS
}

for (const client of clients.length > 0 ? clients : CLIENTS) {
  const bare = perRequest(client, 'bare')
  const minimal = perRequest(client, 'minimal')
  const tokenwell = perRequest(client, 'tokenwell')
  const k = (n: number) => `${(n / 1000).toFixed(0)}k`
  console.log(
    `${client}: bare ${k(bare)}, minimal ${k(minimal)} (${(minimal / bare).toFixed(3)}×), ` +
      `tokenwell ${k(tokenwell)} (${(tokenwell / bare).toFixed(3)}×) instructions per request`,
  )
}
