// `pnpm --filter @tokenwell/bench instructions [client…]`: instructions the client process
// executes per request with a warm token, adapter against bare client and the minimal
// interceptor, counted by valgrind rather than timed: counts do not move with other work on a
// shared machine. callgrind starts with counting off; the child turns it on after 1,500 warm-up
// requests (`callgrind_control -i on`) and off after 1,000 measured ones, so startup, module
// loading and JIT warm-up stay out. V8 runs single-threaded (no background compiler or GC
// threads), and the "net" count leaves out the self cost of its compilers and GC, which still
// lands on whichever side V8 happens to recompile or collect on (up to half the total, varying
// by several per cent between runs of one side). About a minute per side: not part of `pnpm bench`.
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLIENTS = ['axios', 'got', 'fetch', 'undici', 'ky']
const clients = process.argv.slice(2).filter((a) => CLIENTS.includes(a))
const child = fileURLToPath(new URL('./src/instructions-child.ts', import.meta.url))

const REQUESTS = 1000
/** Self cost that is V8 compiling or collecting, not running the request: it lands on whichever side it happens to. */
const ENGINE =
  /v8::internal::(compiler|maglev|turboshaft|Parser|ParserBase|Scanner|Compiler|Heap|Scavenger|MarkCompact|Sweeper|MinorMarkSweep|IncrementalMarking|MarkingVisitor|MainMarkingVisitor|EvacuateVisitor|PointersUpdating|GCTracer)/

/** Instructions per measured request of one side: all, and without V8's compilers and GC. */
function perRequest(client: string, side: string): { all: number; net: number } {
  const out = join(mkdtempSync(join(tmpdir(), 'tokenwell-cg-')), 'callgrind.out')
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${out}`,
      'node',
      '--single-threaded',
    ].concat(['--expose-gc', '--import', 'tsx', child, client, side, String(REQUESTS)]),
    { encoding: 'utf8', env: { ...process.env, BENCH_CALLGRIND: '1', BENCH_WARMUP: '1500' } },
  )
  if (run.status !== 0) throw new Error(`${client} ${side}: ${run.stderr.slice(-500)}`)
  const annotated = spawnSync('callgrind_annotate', ['--threshold=100', out], { encoding: 'utf8' }).stdout
  let all = 0
  let engine = 0
  for (const line of annotated.split('\n')) {
    const ir = /^\s*([\d,]+)\s/.exec(line)?.[1]
    if (ir === undefined) continue
    const n = Number(ir.replaceAll(',', ''))
    if (line.includes('PROGRAM TOTALS')) all = n
    else if (ENGINE.test(line)) engine += n
  }
  return { all: all / REQUESTS, net: (all - engine) / REQUESTS }
}

const k = (n: number) => `${(n / 1000).toFixed(1)}k`
for (const client of clients.length > 0 ? clients : CLIENTS) {
  const [bare, minimal, tokenwell] = ['bare', 'minimal', 'tokenwell'].map((side) => perRequest(client, side))
  const ratio = (side: { net: number }) => (side.net / bare!.net).toFixed(3)
  console.log(
    `${client}: net of compiler and GC, bare ${k(bare!.net)}, minimal ${k(minimal!.net)} (${ratio(minimal!)}×), ` +
      `tokenwell ${k(tokenwell!.net)} (${ratio(tokenwell!)}×); all: ${[bare, minimal, tokenwell].map((s) => k(s!.all)).join(' / ')}`,
  )
}
