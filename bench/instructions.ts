// `pnpm --filter @tokenwell/bench instructions [client…]`: instructions the client process
// executes per request with a warm token, adapter against bare client (and the minimal
// interceptor), counted by valgrind (cachegrind, no cache simulation) rather than timed: counts
// do not move with other work on a shared machine. Each side runs twice, with 300 and 1,300
// measured requests after the same 2,000 warm-up ones, V8 single-threaded (no background compiler
// or GC threads); the difference over 1,000 is the cost of one request: startup cancels out.
// Slow (minutes per side): not part of `pnpm bench`.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLIENTS = ['axios', 'got', 'fetch', 'undici', 'ky']
const clients = process.argv.slice(2).filter((a) => CLIENTS.includes(a))
const child = fileURLToPath(new URL('./src/instructions-child.ts', import.meta.url))

/** Instructions of one run of the child: `requests` measured requests after the warm-up. */
function count(client: string, side: string, requests: number): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      'node',
      '--import',
      'tsx',
      child,
    ].concat([client, side, String(requests)]),
    { encoding: 'utf8' },
  )
  const refs = /I\s+refs:\s+([\d,]+)/.exec(run.stderr)?.[1]
  if (run.status !== 0 || refs === undefined) throw new Error(`${client} ${side}: ${run.stderr.slice(-500)}`)
  return Number(refs.replaceAll(',', ''))
}

const perRequest = (client: string, side: string) =>
  (count(client, side, 600) - count(client, side, 100)) / 500

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
