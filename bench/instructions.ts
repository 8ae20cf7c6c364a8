// `pnpm --filter @tokenwell/bench instructions [client…]`: instructions the client process
// executes per request with a warm token, adapter against bare client and the minimal
// interceptor, counted by valgrind rather than timed: counts do not move with other work on a
// shared machine. callgrind starts with counting off; the child turns it on after 20,000 warm-up
// requests (`callgrind_control -i on`) and off after 1,000 measured ones, so startup, module
// loading and JIT warm-up stay out. V8 runs single-threaded (no background compiler or GC
// threads), and the "net" count leaves out the self cost of its compilers and GC, which still
// lands on whichever side V8 happens to recompile or collect on (up to half the total, varying
// by several per cent between runs of one side). About a minute per side: not part of `pnpm bench`.
// `--runs=N` runs each side N times (alternating) and reports the median and the spread (min–max);
// `--sides=bare,tokenwell` picks sides; `--requests=N` measured requests, `--warmup=N` warm-up ones; `--keep` prints each
// run's callgrind.out path (for `callgrind_annotate`); `--symbols` also runs node with
// `--perf-basic-prof --no-short-builtin-calls` and writes `functions.txt` beside it: self cost per
// request of each function, JIT code named from node's perf map (callgrind sees only addresses).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLIENTS = ['axios', 'got', 'fetch', 'undici', 'ky']
const SIDES = ['bare', 'minimal', 'tokenwell']
const args = process.argv.slice(2)
const clients = args.filter((a) => CLIENTS.includes(a))
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const runs = Number(flag('runs') ?? 1)
const sides = flag('sides')?.split(',') ?? SIDES
const symbols = args.includes('--symbols')
const keep = symbols || args.includes('--keep')
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer')
if (!sides.includes('bare') || sides.some((s) => !SIDES.includes(s)))
  throw new Error(`--sides: a comma-separated list of ${SIDES.join(', ')}, with bare`)
const child = fileURLToPath(new URL('./src/instructions-child.ts', import.meta.url))

const REQUESTS = Number(flag('requests') ?? 1000)
const WARMUP = flag('warmup') ?? '20000'
/** Self cost that is V8 compiling or collecting, not running the request: it lands on whichever side it happens to. */
const ENGINE =
  /v8::internal::(?:\w+::)*(compiler|maglev|turboshaft|Parser|ParserBase|Scanner|Compiler|Heap|Scavenger|MarkCompact|Sweeper|MinorMarkSweep|IncrementalMarking|MarkingVisitor|MainMarkingVisitor|EvacuateVisitor|PointersUpdating|GCTracer|Evacuator|RememberedSet|RootScavengeVisitor|FreeList|ActiveSystemPages|IterateObjectCache)/

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
      // V8's code log goes beside callgrind.out, not into the working directory
      ...(symbols
        ? [
            '--perf-basic-prof',
            '--no-short-builtin-calls',
            '--no-logfile-per-isolate',
            `--logfile=${out}.v8.log`,
          ]
        : []),
    ].concat(['--expose-gc', '--import', 'tsx', child, client, side, String(REQUESTS)]),
    { encoding: 'utf8', env: { ...process.env, BENCH_CALLGRIND: '1', BENCH_WARMUP: WARMUP } },
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
  if (symbols) {
    const perfMap = `/tmp/perf-${run.pid}.map`
    writeFunctions(annotated, perfMap, join(out, '..', 'functions.txt'))
    rmSync(perfMap, { force: true })
  }
  if (keep) console.log(`  ${client} ${side}: ${out}`)
  return { all: all / REQUESTS, net: (all - engine) / REQUESTS }
}

/** Self cost per request of every function in `annotated`, JIT addresses named from `perfMap`. */
function writeFunctions(annotated: string, perfMap: string, file: string): void {
  const ranges = readFileSync(perfMap, 'utf8')
    .split('\n')
    .map((line) => /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ start: Number.parseInt(m[1]!, 16), size: Number.parseInt(m[2]!, 16), name: m[3]! }))
  const nameOf = (address: number) =>
    ranges.findLast((r) => address >= r.start && address < r.start + r.size)?.name
  const self = new Map<string, number>()
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+)\s.*?\s(\S+:\S.*)$/.exec(line)
    if (m === null || line.includes('PROGRAM TOTALS')) continue
    let name = m[2]!.replace(/ \[.*\]$/, '')
    const address = /^\?\?\?:0x([0-9a-f]+)$/.exec(name)?.[1]
    if (address !== undefined) name = nameOf(Number.parseInt(address, 16)) ?? name
    self.set(name, (self.get(name) ?? 0) + Number(m[1]!.replaceAll(',', '')) / REQUESTS)
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${n.toFixed(0).padStart(8)} ${name}`)
  writeFileSync(file, `${rows.join('\n')}\n`)
}

const k = (n: number) => `${(n / 1000).toFixed(1)}k`
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
/** Median and, over several runs, the min–max spread. */
const summary = (xs: number[]) =>
  xs.length === 1 ? k(xs[0]!) : `${k(median(xs))} [${k(Math.min(...xs))}–${k(Math.max(...xs))}]`
for (const client of clients.length > 0 ? clients : CLIENTS) {
  const counts = new Map(sides.map((side) => [side, [] as { all: number; net: number }[]]))
  for (let run = 0; run < runs; run++)
    for (const side of run % 2 === 0 ? sides : [...sides].reverse())
      counts.get(side)!.push(perRequest(client, side))
  const bare = median(counts.get('bare')!.map((c) => c.net))
  const parts = sides.map((side) => {
    const net = counts.get(side)!.map((c) => c.net)
    const ratio = side === 'bare' ? '' : ` (${(median(net) / bare).toFixed(3)}×)`
    return `${side} ${summary(net)}${ratio}`
  })
  const all = sides.map((side) => summary(counts.get(side)!.map((c) => c.all)))
  console.log(
    `${client}${runs > 1 ? `, median of ${runs} runs [min–max]` : ''}: net of compiler and GC, ${parts.join(', ')}; all: ${all.join(' / ')}`,
  )
}
