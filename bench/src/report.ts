import type { BurstResult, SteadyResult } from './concurrency.js'
import type { FastPathResult } from './fast-path.js'
import type { Machine } from './machine.js'
import type { OverheadResult } from './overhead.js'
import type { PageSize } from './pages.js'
import { type ProfileSummary, selfTimeIncrease } from './profile.js'
import type { SizeResults } from './size.js'

export interface ProfileSide {
  readonly requests: number
  /** CPU time of the client process per request, µs. */
  readonly cpuUsPerRequest: number
  /** Of that, time with a tokenwell function on the stack, µs. */
  readonly tokenwellUsPerRequest: number
  readonly summary: ProfileSummary
}

export interface ProfileResult {
  readonly client: string
  readonly bare: ProfileSide
  /** The client with the least interceptor that sets a static header (see subjects.ts `MINIMAL`). */
  readonly minimal: ProfileSide & { readonly label: string }
  readonly tokenwell: ProfileSide
}

export interface Target {
  readonly target: string
  readonly result: string
  readonly met: boolean
}

export interface BenchResults {
  meta: {
    date: string
    machine: Machine
    durationS: number
    quick: boolean
    /** 1-minute load average when the run started and when it ended: other work on the machine skews everything. */
    loadAverage: { start: number; end: number }
    config: unknown
  }
  targets: Target[]
  fastPath: FastPathResult
  overhead: OverheadResult[]
  profiles: ProfileResult[]
  concurrency: {
    coldBurst: BurstResult[]
    storm: BurstResult[]
    steady: SteadyResult[]
    /** Refresh-ahead across token lifetimes (tokenwell only). */
    sweep?: (SteadyResult & { lifetimeS: number })[]
  }
  size: SizeResults
  setups: { label: string; setup: string }[]
}

const CORE_BUDGET = 5_000
/** The adapters' targets: throughput ≥ 99% of the bare client's, client CPU per request ≤ 1.02×. */
const THROUGHPUT_TARGET = 0.99
const CPU_TARGET = 1.02
const meetsThroughput = (ratio: number) => ratio >= THROUGHPUT_TARGET
/** `cpuRatio` is bare ÷ tokenwell CPU per request. */
const meetsCpu = (cpuRatio: number) => 1 / cpuRatio <= CPU_TARGET
/** Every tokenwell adapter, whichever clients a run measures. */
const TOKENWELL_IDS = { has: (subject: string) => subject.startsWith('tokenwell-') }

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => (Number.isNaN(n) ? '–' : n >= 100 ? int(n) : n.toFixed(n >= 10 ? 1 : 2))
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`
const kb = (bytes: number) =>
  `${(bytes / 1000).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} kB`
const mark = (met: boolean) => (met ? 'met' : '**missed**')

/** Checks the numbers against the targets the project holds itself to. */
export function evaluateTargets(results: BenchResults): Target[] {
  const overhead = results.overhead
  const ours = (rows: readonly { subject: string }[]) => rows.filter((r) => TOKENWELL_IDS.has(r.subject))
  const cold = ours(results.concurrency.coldBurst) as BurstResult[]
  const storm = ours(results.concurrency.storm) as BurstResult[]
  const steady = ours(results.concurrency.steady) as SteadyResult[]
  const core = results.size.bundles.find((b) => b.label === '@tokenwell/core')!
  const secretUser = results.size.bundles.find(
    (b) => b.label === '@tokenwell/core: createTokenProvider only',
  )!
  return [
    {
      target: `adapter throughput ≥ ${pct(THROUGHPUT_TARGET)} of the bare client, CPU per request ≤ ${CPU_TARGET.toFixed(2)}×`,
      // on a shared machine throughput follows the CPU share the client gets; CPU per request
      // is what a CPU-bound client's throughput follows: the target holds only if both do
      result: overhead
        .map((o) => `${o.client} ${pct(o.ratio)} (by client CPU per request ${pct(o.cpuRatio)})`)
        .join(', '),
      met: overhead.every((o) => meetsThroughput(o.ratio) && meetsCpu(o.cpuRatio)),
    },
    {
      target: '`getToken()` fast path under 1 µs',
      result: `${results.fastPath.nsPerOp.toFixed(0)} ns/op`,
      met: results.fastPath.nsPerOp < 1_000,
    },
    {
      target: 'exactly 1 token request in each concurrency scenario',
      result:
        `cold burst ${cold.map((r) => r.tokenRequests).join('/')}, ` +
        `401 storm ${storm.map((r) => r.tokenRequests).join('/')}, ` +
        `steady load: ${steady.map((r) => r.tokenRequests).join('/')} refreshes, at most ` +
        `${Math.max(...steady.map((r) => r.maxConcurrentTokenRequests))} at a time, ` +
        `${steady.reduce((n, r) => n + r.waited, 0)} requests waited for one ` +
        `(${steady.reduce((n, r) => n + r.waitedByChance, 0).toFixed(1)} by chance; ${steady.map((r) => r.subject.replace('tokenwell-', '')).join('/')})`,
      met:
        [...cold, ...storm].every((r) => r.tokenRequests === 1 && r.failed === 0) &&
        steady.every((r) => r.maxConcurrentTokenRequests === 1 && r.failed === 0),
    },
    ...(results.concurrency.sweep?.length
      ? [
          {
            target:
              'refresh-ahead, 2 s … 300 s tokens: 0 waits after warm-up, one token request per lifetime, 0 failures',
            result: results.concurrency.sweep
              .map(
                (r) =>
                  `${r.lifetimeS} s: ${r.tokenWaits ?? '?'} waited, ${r.tokenRequests} token requests over ${r.lifetimes.toFixed(1)} lifetimes (at most ${r.maxTokenRequestsPerLifetime} in one token's lifetime), ${r.failed} failed`,
              )
              .join('; '),
            // each token replaced by one request, started within its lifetime
            met: results.concurrency.sweep.every(
              (r) =>
                r.tokenWaits === 0 &&
                r.failed === 0 &&
                r.maxTokenRequestsPerLifetime <= 1 &&
                // it crossed its refreshes: one per lifetime it ran
                r.tokenRequests >= Math.floor(r.lifetimes),
            ),
          },
        ]
      : []),
    ...pageTargets(results.size.pages ?? []),
    {
      target: 'core under 5 kB min+gzip',
      result: `${kb(core.gzipBytes)} (createTokenProvider alone: ${kb(secretUser.gzipBytes)}; loaded only when used, jose included: ${kb(core.lazyGzipBytes)})`,
      met: core.gzipBytes < CORE_BUDGET,
    },
  ]
}

/** The refresh-ahead sweep across token lifetimes: tokenwell over fetch, default `refreshSkew`. */
function sweepSection(sweep: readonly (SteadyResult & { lifetimeS: number })[]): string[] {
  return [
    '### Refresh-ahead across token lifetimes (tokenwell over fetch, default `refreshSkew`, token endpoint 300 ms)',
    '',
    '"waited on a token request": requests whose token was not ready in the provider (`peekToken()` came back empty), counted where it happens; ' +
      '"slow around a refresh": the latency test of the steady-load table (slow requests near a token response, whatever made them slow).',
    '',
    table(
      [
        'token lifetime',
        '>requests',
        '>token requests',
        '>lifetimes',
        '>most per token lifetime',
        '>waited on a token request',
        '>slow around a refresh (by chance)',
        '>failed',
        '>p99',
      ],
      sweep.map((r) => [
        `${r.lifetimeS} s`,
        int(r.requests),
        int(r.tokenRequests),
        r.lifetimes.toFixed(1),
        String(r.maxTokenRequestsPerLifetime),
        `**${r.tokenWaits ?? '–'}**`,
        `${int(r.waited)} (${r.waitedByChance.toFixed(1)})`,
        int(r.failed),
        `${ms(r.p99)} ms`,
      ]),
    ),
  ]
}

/** Issue 15: each browser page within its budget, next to the smallest peer's page. */
function pageTargets(pages: readonly PageSize[]): Target[] {
  const ours = pages.filter((p) => p.budget !== undefined)
  if (ours.length === 0) return []
  const peer = pages.find((p) => p.budget === undefined)
  return [
    {
      target: 'browser pages (no code splitting) ≤ 8 kB min+gzip, ≤ 10 kB with createBrowserTokenStore',
      result:
        ours.map((p) => `${p.label.replace(/^page: /, '')} ${kb(p.gzipBytes)}`).join(', ') +
        (peer ? `; ${peer.label.replace(/^page: /, '')} ${kb(peer.gzipBytes)}` : ''),
      met: ours.every((p) => p.gzipBytes <= p.budget!),
    },
  ]
}

/** The browser pages' table (results.md and the README block). */
function pagesTable(pages: readonly PageSize[]): string {
  return table(
    [
      'browser page, esbuild --bundle --minify --format=esm --platform=browser',
      '>min',
      '>min+gzip',
      '>budget',
    ],
    pages.map((p) => [
      p.label.replace(/^page: /, ''),
      kb(p.minBytes),
      `**${kb(p.gzipBytes)}**`,
      p.budget === undefined ? '–' : `${kb(p.budget)} ${mark(p.gzipBytes <= p.budget)}`,
    ]),
  )
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const align = head.map((h) => (h.startsWith('>') ? '---:' : '---'))
  const clean = head.map((h) => h.replace(/^>/, ''))
  return [clean, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n')
}

/** results.md: every table, the targets first. */
export function renderMarkdown(results: BenchResults): string {
  const { meta, fastPath, overhead, concurrency, size, profiles } = results
  const m = meta.machine
  const config = meta.config as {
    overhead: { reps: number; durationMs: number; concurrency: number; warmupRequests: number }
    coldBurst: { calls: number; connections: number }
    storm: { calls: number }
    steady: {
      lifetimeS: number
      durationMs: number
      concurrency: number
      refreshSkew: number
      tokenLatency: number
    }
  }
  const out: string[] = []
  out.push('# tokenwell benchmarks', '')
  out.push(
    `Measured ${meta.date.slice(0, 10)} (${meta.date}) on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, ${m.os}. \`pnpm bench\` took ${int(meta.durationS)} s` +
      `${meta.quick ? ' (**--quick**: short trials, numbers are rough)' : ''}. ` +
      'Loopback only: the servers run in a child process, the clients under test in the main one. ' +
      `Load average (1 min) ${meta.loadAverage.start.toFixed(2)} at the start, ${meta.loadAverage.end.toFixed(2)} at the end.`,
    '',
  )
  out.push('## Targets', '')
  out.push(
    table(
      ['target', 'result', 'status'],
      results.targets.map((t) => [t.target, t.result, mark(t.met)]),
    ),
    '',
  )

  out.push('## 1. Overhead with a warm token', '')
  out.push(
    `Closed loop, ${config.overhead.concurrency} requests in flight, \`GET /data\` (small JSON body) on a protected API ` +
      'that checks the bearer token with one map lookup; keep-alive agents (fetch: an undici pool) of the same size on both sides. ' +
      `Each side: ${config.overhead.reps} trials of ${config.overhead.durationMs} ms after ${int(config.overhead.warmupRequests)} warm-up requests, ` +
      'on a fresh agent; the side that goes first alternates. Throughput ratio: median over the trial pairs; latencies: medians over trials. ' +
      '"CPU µs/req": CPU time of the client process per request (`process.cpuUsage`), medians; "by CPU": bare/tokenwell CPU per request, ' +
      'median over the pairs: the throughput ratio of a CPU-bound client, and much steadier than throughput when other work shares the machine.',
    '',
  )
  out.push(
    table(
      [
        'client',
        '>bare req/s',
        '>tokenwell req/s',
        '>tokenwell / bare',
        '>CPU µs/req bare',
        '>CPU µs/req tokenwell',
        '>by CPU',
        '>p50 bare',
        '>p50 tokenwell',
        '>p99 bare',
        '>p99 tokenwell',
        'throughput ratio per pair',
      ],
      overhead.map((o) => [
        o.client,
        int(o.bare.throughput),
        int(o.tokenwell.throughput),
        `**${pct(o.ratio)}**`,
        o.bare.cpuUsPerRequest.toFixed(0),
        o.tokenwell.cpuUsPerRequest.toFixed(0),
        pct(o.cpuRatio),
        `${ms(o.bare.p50)} ms`,
        `${ms(o.tokenwell.p50)} ms`,
        `${ms(o.bare.p99)} ms`,
        `${ms(o.tokenwell.p99)} ms`,
        o.ratios.map((r) => pct(r)).join(', '),
      ]),
    ),
    '',
  )
  out.push(
    `\`getToken()\` with a cached token: **${fastPath.nsPerOp.toFixed(0)} ns/op** ` +
      `(median of ${fastPath.reps} loops of ${int(fastPath.iterations)} awaited calls; ` +
      `awaiting an async function that returns a cached object costs ${fastPath.floorNsPerOp.toFixed(0)} ns on the same machine).`,
    '',
  )
  for (const p of profiles) {
    out.push(`### Profile: ${p.client}`, '')
    out.push(
      `CPU time of the client process per request (V8 sampling profiler, one ${config.overhead.durationMs} ms closed-loop trial per side): ` +
        `bare ${p.bare.cpuUsPerRequest.toFixed(1)} µs; ${p.minimal.label}: ${p.minimal.cpuUsPerRequest.toFixed(1)} µs; ` +
        `with tokenwell ${p.tokenwell.cpuUsPerRequest.toFixed(1)} µs, of which ${p.tokenwell.tokenwellUsPerRequest.toFixed(1)} µs ` +
        'ran with a tokenwell function on the stack. These are single profiled trials: the profiler slows all three alike, and on a busy machine a few ' +
        'tens of µs either way is noise; the medians of the table above are the measurement, the profile says where the time goes.',
      '',
    )
    out.push(
      "Where the extra CPU goes: self time per request that grew most from bare to tokenwell (any code, the client's included; differences of a few µs are within the noise of two profiles):",
      '',
      table(
        ['function', '>+µs/request'],
        selfTimeIncrease(p.bare, p.tokenwell, 8).map((f) => [`\`${f.fn}\``, f.usPerRequest.toFixed(2)]),
      ),
      '',
      'tokenwell functions, by time with them on the stack (total includes what they call: for fetch, the fetch itself):',
      '',
    )
    out.push(
      table(
        ['tokenwell function', '>total µs/request', '>self µs/request'],
        p.tokenwell.summary.topOurs
          .slice(0, 8)
          .map((f) => [
            `\`${f.fn}\``,
            ((f.totalMs * 1000) / p.tokenwell.requests).toFixed(2),
            ((f.selfMs * 1000) / p.tokenwell.requests).toFixed(2),
          ]),
      ),
      '',
    )
  }

  out.push('## 2. Token requests under concurrency', '')
  out.push(
    `Same servers, same run; the token endpoint answers after ${config.steady.tokenLatency} ms. Token requests are counted at the authorization server, per client id. ` +
      '"failed": requests that did not end with a 2xx for the caller; "401s": answers the API sent (each one a request the library had to refresh and replay, or lost).',
    '',
  )
  const burstTable = (rows: readonly BurstResult[]) =>
    table(
      ['library', '>token requests', '>failed', '>401s', '>wall', '>p50', '>p99'],
      rows.map((r) => [
        r.label,
        TOKENWELL_IDS.has(r.subject) ? `**${int(r.tokenRequests)}**` : int(r.tokenRequests),
        int(r.failed),
        int(r.unauthorized),
        `${int(r.wallMs)} ms`,
        `${ms(r.p50)} ms`,
        `${ms(r.p99)} ms`,
      ]),
    )
  out.push(
    `### Cold burst: ${int(config.coldBurst.calls)} concurrent requests, nothing cached`,
    '',
    `${config.coldBurst.connections} sockets per client.`,
    '',
    burstTable(concurrency.coldBurst),
    '',
  )
  out.push(
    `### 401 storm: ${int(config.storm.calls)} requests in flight with a token the API no longer accepts`,
    '',
    'The client is warm; every token is then revoked and the requests start at once.',
    '',
    burstTable(concurrency.storm),
    '',
  )
  out.push(
    `### Steady load across expiries: ${config.steady.lifetimeS} s tokens, ${int(config.steady.durationMs)} ms of closed-loop load`,
    '',
    `${config.steady.concurrency} requests in flight on a warm client; the run spans ${(config.steady.durationMs / (config.steady.lifetimeS * 1000)).toFixed(1)} token lifetimes. ` +
      `tokenwell and the hand-written interceptor get \`refreshSkew\` ${config.steady.refreshSkew} ms (a 1-hour token with the default 30 s, scaled down); the others have no such setting. ` +
      `"waited": requests slower than ${config.steady.tokenLatency / 2} ms that were in flight when a token response arrived and ended within ${config.steady.tokenLatency / 2} ms of it; ` +
      '"by chance": what the same test finds at as many instants far from any token request (slow requests that happen to match; a busy machine makes more). ' +
      `"around refresh": requests started within ${config.steady.tokenLatency} ms of a token request.`,
    '',
  )
  out.push(
    table(
      [
        'library',
        '>token requests',
        '>most at once',
        '>waited (by chance)',
        '>401s',
        '>failed',
        '>p50',
        '>p99',
        '>p99 around refresh',
        '>max around refresh',
      ],
      concurrency.steady.map((r) => [
        r.label,
        int(r.tokenRequests),
        TOKENWELL_IDS.has(r.subject)
          ? `**${r.maxConcurrentTokenRequests}**`
          : String(r.maxConcurrentTokenRequests),
        `${TOKENWELL_IDS.has(r.subject) ? `**${int(r.waited)}**` : int(r.waited)} (${r.waitedByChance.toFixed(1)})`,
        int(r.unauthorized),
        int(r.failed),
        `${ms(r.p50)} ms`,
        `${ms(r.p99)} ms`,
        `${ms(r.p99AroundRefresh)} ms`,
        `${ms(r.maxAroundRefresh)} ms`,
      ]),
    ),
    '',
  )

  if (concurrency.sweep?.length) out.push(...sweepSection(concurrency.sweep), '')

  out.push('## 3. Size', '')
  out.push(
    'esbuild, minified ESM, platform neutral, runtime dependencies inlined, the HTTP client (a peer) and Node built-ins external; ' +
      '`import()` becomes its own chunk, counted apart as "lazy". gzip level 9.',
    '',
  )
  out.push(
    table(
      ['bundle', '>min', '>min+gzip', '>lazy min+gzip', 'note'],
      size.bundles.map((b) => [
        b.label,
        kb(b.minBytes),
        `**${kb(b.gzipBytes)}**`,
        b.lazyGzipBytes > 0 ? kb(b.lazyGzipBytes) : '–',
        b.note ?? '',
      ]),
    ),
    '',
  )
  const core = size.bundles.find((b) => b.label === '@tokenwell/core: createTokenProvider only')
  if (core) {
    out.push(
      'Largest inputs of `createTokenProvider` (minified bytes before gzip): ' +
        core.inputs
          .slice(0, 10)
          .map((i) => `${i.path.replace(/^packages\/core\/dist\//, '')} ${int(i.bytes)}`)
          .join(', ') +
        '.',
      '',
    )
  }
  if (size.pages?.length) {
    out.push(
      '### Browser pages, no code splitting',
      '',
      'Whole pages as a browser app builds them: every `import()` inlined, what the page does not import left out ' +
        '(JWT client auth, DPoP, the device grant, discovery and revocation come from entries of their own). ' +
        'The page sources are in `src/pages.ts`; `test/bundle-size.test.ts` holds the same budgets.',
      '',
      pagesTable(size.pages),
      '',
    )
    const first = size.pages[0]!
    out.push(
      `Largest inputs of "${first.label.replace(/^page: /, '')}" (minified bytes before gzip): ` +
        first.inputs
          .slice(0, 12)
          .map((i) => `${i.path.replace(/\/dist\//, '/')} ${int(i.bytes)}`)
          .join(', ') +
        '.',
      '',
    )
  }
  out.push(
    'Install footprint: bytes on disk of the package and its production dependencies (peers excluded), each package once; ours as `npm pack` would publish them.',
    '',
  )
  out.push(
    table(
      ['package', '>install footprint', 'packages (own size)'],
      size.footprints.map((f) => [
        f.label,
        `**${kb(f.bytes)}**`,
        f.packages.map((p, i) => `${p} (${kb(f.packageBytes[i] ?? 0)})`).join(', '),
      ]),
    ),
    '',
  )

  out.push('## How each library is set up', '')
  out.push(
    table(
      ['library', 'setup'],
      results.setups.map((s) => [s.label, s.setup]),
    ),
    '',
  )
  return `${out.join('\n')}\n`
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** chart.svg: throughput against the bare clients, and token requests per library (log scale). */
export function renderSvg(results: BenchResults): string {
  const width = 860
  const height = 330
  const parts: string[] = []
  const text = (x: number, y: number, s: string, attrs = '') =>
    parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`)
  const rect = (x: number, y: number, w: number, h: number, fill: string) =>
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${fill}"/>`,
    )
  const line = (x1: number, y1: number, x2: number, y2: number, attrs: string) =>
    parts.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attrs}/>`,
    )
  const OURS = '#2f6fb0'
  const PEER = '#9aa3ad'
  const STORM = '#e08a2c'
  const OURS_LIGHT = '#8db5dc'
  const MISSED = '#c0504d'
  const MISSED_LIGHT = '#e3a3a1'

  // left panel: tokenwell throughput as % of the bare client
  const left = { x: 50, y: 50, w: 250, h: 210 }
  const lo = 0.6
  const hi = 1.05
  const yOf = (ratio: number) =>
    left.y + left.h - ((Math.min(hi, Math.max(lo, ratio)) - lo) / (hi - lo)) * left.h
  text(20, 24, 'Adapter vs the bare client, warm token', 'font-weight="600"')
  text(20, 38, 'dark: throughput; light: by client CPU per request', 'font-size="10" fill="#555"')
  for (const tick of [0.6, 0.7, 0.8, 0.9, 1.0]) {
    line(left.x, yOf(tick), left.x + left.w, yOf(tick), 'stroke="#e3e6ea"')
    text(
      left.x - 6,
      yOf(tick) + 4,
      `${Math.round(tick * 100)}%`,
      'text-anchor="end" font-size="11" fill="#555"',
    )
  }
  const slot = left.w / results.overhead.length
  results.overhead.forEach((o, i) => {
    const x = left.x + i * slot + slot * 0.12
    const w = slot * 0.38
    const bar = (ratio: number, at: number, fill: string) => {
      rect(at, yOf(ratio), w, left.y + left.h - yOf(ratio), fill)
      text(at + w / 2, yOf(ratio) - 4, pct(ratio), 'text-anchor="middle" font-size="10"')
    }
    bar(o.ratio, x, meetsThroughput(o.ratio) ? OURS : MISSED)
    bar(o.cpuRatio, x + w, meetsCpu(o.cpuRatio) ? OURS_LIGHT : MISSED_LIGHT)
    text(x + w, left.y + left.h + 16, o.client, 'text-anchor="middle" font-size="12"')
  })
  const target = yOf(THROUGHPUT_TARGET)
  line(left.x, target, left.x + left.w, target, 'stroke="#c0504d" stroke-dasharray="5,4"')
  text(left.x + left.w + 4, target + 4, `target ${pct(THROUGHPUT_TARGET)}`, 'font-size="10" fill="#c0504d"')

  // right panel: token requests per library, cold burst and 401 storm, log scale
  const right = { x: 500, y: 50, w: 240, h: 220 }
  const { coldBurst, storm } = results.concurrency
  const calls = (results.meta.config as { coldBurst: { calls: number } }).coldBurst.calls
  const maxLog = Math.log10(
    Math.max(calls, ...coldBurst.map((r) => r.tokenRequests), ...storm.map((r) => r.tokenRequests)),
  )
  const xOf = (n: number) => right.x + (Math.log10(Math.max(1, n)) / Math.max(1, maxLog)) * right.w
  text(390, 24, 'Token requests (log scale): cold burst and 401 storm', 'font-weight="600"')
  for (let p = 0; p <= Math.ceil(maxLog); p++) {
    const x = xOf(10 ** p)
    if (x > right.x + right.w + 1) break
    line(x, right.y - 6, x, right.y + right.h, 'stroke="#e3e6ea"')
    text(x, right.y + right.h + 14, int(10 ** p), 'text-anchor="middle" font-size="10" fill="#555"')
  }
  const row = right.h / coldBurst.length
  coldBurst.forEach((r, i) => {
    const y = right.y + i * row
    const stormRow = storm.find((s) => s.subject === r.subject)
    const ours = TOKENWELL_IDS.has(r.subject)
    text(
      right.x - 8,
      y + row / 2 + 4,
      r.label,
      `text-anchor="end" font-size="11"${ours ? ' font-weight="600"' : ''}`,
    )
    const bar = ({ tokenRequests, failed }: BurstResult, dy: number, fill: string) => {
      const w = Math.max(2, xOf(tokenRequests) - right.x)
      rect(right.x, y + dy, w, row * 0.32, fill)
      const label = failed > 0 ? `${int(tokenRequests)} (${int(failed)} requests failed)` : int(tokenRequests)
      text(
        right.x + w + 4,
        y + dy + row * 0.32 - 1,
        label,
        `font-size="10"${failed > 0 ? ' fill="#c0504d"' : ''}`,
      )
    }
    bar(r, row * 0.12, ours ? OURS : PEER)
    if (stormRow) bar(stormRow, row * 0.5, STORM)
  })
  const legendY = height - 16
  rect(right.x - 130, legendY - 9, 10, 10, OURS)
  rect(right.x - 118, legendY - 9, 10, 10, PEER)
  text(right.x - 104, legendY, `cold burst (${int(calls)} requests)`, 'font-size="11"')
  rect(right.x + 60, legendY - 9, 10, 10, STORM)
  text(right.x + 74, legendY, '401 storm (1,000 in flight)', 'font-size="11"')
  const m = results.meta.machine
  text(
    20,
    height - 16,
    `${results.meta.date.slice(0, 10)}, ${m.cores}× ${m.cpu}, Node ${m.node}`,
    'font-size="10" fill="#777"',
  )

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="title" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
    `<title id="title">tokenwell benchmarks: adapter throughput as % of the bare client; token requests per library in a cold burst and a 401 storm</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}

/** The root README's benchmark summary, between `<!-- bench:start -->` and `<!-- bench:end -->`. */
export function renderReadmeBlock(results: BenchResults): string {
  const { meta, overhead, concurrency, fastPath, size } = results
  const m = meta.machine
  const cell = (r: BurstResult | undefined) =>
    r === undefined ? '–' : `${int(r.tokenRequests)}${r.failed > 0 ? ` (${int(r.failed)} failed)` : ''}`
  const subjects = concurrency.coldBurst.map((r) => r.subject)
  const labels = concurrency.coldBurst.map((r) => (TOKENWELL_IDS.has(r.subject) ? `**${r.label}**` : r.label))
  const find = <T extends { subject: string }>(rows: readonly T[], id: string) =>
    rows.find((r) => r.subject === id)
  const calls = (meta.config as { coldBurst: { calls: number }; storm: { calls: number } }) ?? undefined
  const bundle = (label: string) => size.bundles.find((b) => b.label === label)
  const lines = [
    `Measured ${meta.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; ` +
      `load average ${meta.loadAverage.start.toFixed(2)} at the start and ${meta.loadAverage.end.toFixed(2)} at the end ` +
      `(the machine is shared: other jobs ran during the run, and throughput moves with them). ` +
      `\`pnpm bench\` took ${int(meta.durationS)} s. Every table, trial and profile: [bench/results/results.md](bench/results/results.md).`,
    '',
    '![Adapter throughput as a share of the bare client, and token requests per library in a cold burst and a 401 storm](bench/results/chart.svg)',
    '',
    table(
      ['target', 'result', 'status'],
      results.targets.map((t) => [t.target, t.result, mark(t.met)]),
    ),
    '',
    table(
      [
        'warm token, 16 in flight',
        '>bare req/s',
        '>tokenwell req/s',
        '>tokenwell / bare',
        '>by client CPU',
        '>p50',
        '>p99',
      ],
      overhead.map((o) => [
        o.client,
        int(o.bare.throughput),
        int(o.tokenwell.throughput),
        `**${pct(o.ratio)}**`,
        pct(o.cpuRatio),
        `${ms(o.bare.p50)} → ${ms(o.tokenwell.p50)} ms`,
        `${ms(o.bare.p99)} → ${ms(o.tokenwell.p99)} ms`,
      ]),
    ),
    '',
    `\`getToken()\` with a cached token: **${fastPath.nsPerOp.toFixed(0)} ns** per call.`,
    '',
    table(
      ['token requests (failed requests)', ...labels],
      [
        [
          `cold burst, ${int(calls.coldBurst.calls)} requests`,
          ...subjects.map((id) => cell(find(concurrency.coldBurst, id))),
        ],
        [
          `401 storm, ${int(calls.storm.calls)} in flight`,
          ...subjects.map((id) => cell(find(concurrency.storm, id))),
        ],
        [
          'steady load over 2 expiries: token requests / most at once / requests that waited',
          ...subjects.map((id) => {
            const r = find(concurrency.steady, id)
            return r === undefined
              ? '–'
              : `${r.tokenRequests} / ${r.maxConcurrentTokenRequests} / ${r.waited} (${r.waitedByChance.toFixed(0)} by chance)` +
                  `${r.failed > 0 ? `, ${r.failed} failed` : ''}`
          }),
        ],
      ],
    ),
    '',
    table(
      ['size, min+gzip', '>loaded at once', '>lazy', '>install footprint'],
      [
        ['@tokenwell/core', '@tokenwell/core', '@tokenwell/core'],
        [
          '@tokenwell/core: createTokenProvider only',
          '@tokenwell/core: createTokenProvider only',
          '@tokenwell/core',
        ],
        [
          '@tokenwell/axios + createTokenProvider',
          '@tokenwell/axios + createTokenProvider',
          '@tokenwell/axios',
        ],
        [
          '@tokenwell/fetch + createTokenProvider',
          '@tokenwell/fetch + createTokenProvider',
          '@tokenwell/fetch',
        ],
        ['axios-auth-refresh', 'axios-auth-refresh', 'axios-auth-refresh'],
        [
          'axios-oauth-client + axios-token-interceptor',
          'axios-oauth-client + axios-token-interceptor',
          'axios-oauth-client + axios-token-interceptor',
        ],
        ['@badgateway/oauth2-client', '@badgateway/oauth2-client', '@badgateway/oauth2-client'],
      ].map(([row, label, footprint]) => {
        const b = bundle(label!)
        const f = size.footprints.find((x) => x.label === footprint)
        return [
          row!,
          b ? kb(b.gzipBytes) : '–',
          b && b.lazyGzipBytes > 0 ? kb(b.lazyGzipBytes) : '–',
          f ? kb(f.bytes) : '–',
        ]
      }),
    ),
    ...(size.pages?.length ? ['', pagesTable(size.pages)] : []),
  ]
  return lines.join('\n')
}

/** `readme` with its bench block replaced by `block`; unchanged when it has no markers. */
export function replaceReadmeBlock(readme: string, block: string): string {
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const from = readme.indexOf(start)
  const to = readme.indexOf(end)
  if (from < 0 || to < from) return readme
  return `${readme.slice(0, from + start.length)}\n${block}\n${readme.slice(to)}`
}

/** Where a run's files go: a full run owns bench/results/ and the README summary. */
export interface ResultsTarget {
  /** Relative to bench/. */
  dir: 'results/' | 'results/quick/'
  /** Whether the root README's bench block is rewritten. */
  readme: boolean
}

/**
 * A `--quick` run's numbers are rough (short trials can read "met" where the full run says
 * "missed"), so it writes to bench/results/quick/ (gitignored) and leaves the README and the
 * committed full results alone; only a full run updates them.
 */
export function resultsTarget(meta: Pick<BenchResults['meta'], 'quick'>): ResultsTarget {
  return meta.quick ? { dir: 'results/quick/', readme: false } : { dir: 'results/', readme: true }
}
