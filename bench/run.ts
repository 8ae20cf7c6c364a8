// `pnpm bench`: every measurement in one run, on loopback, written to bench/results/ and the
// README's summary. Options: --quick (short trials, to try the bench out: written to
// bench/results/quick/ only, never to the README or bench/results/), --profile (profile every adapter's
// hot path, not only one that misses its target), --report (re-render results.json only),
// --sweep (only the refresh-ahead sweep across lifetimes, written to bench/results/quick/sweep.json;
// with --lifetimes=2,5 only those lifetimes, s).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { now } from './src/clock.js'
import { coldBurst, lifetimeSweep, type SteadyOptions, steady, storm } from './src/concurrency.js'
import { measureFastPath } from './src/fast-path.js'
import { describeMachine } from './src/machine.js'
import { fetchStaticToken, measureOverhead, type OverheadOptions, runTrial } from './src/overhead.js'
import { isTokenwellUrl, profile, summarizeProfile } from './src/profile.js'
import { startRemoteBenchServers } from './src/remote-servers.js'
import {
  type BenchResults,
  evaluateTargets,
  type ProfileResult,
  renderMarkdown,
  renderReadmeBlock,
  renderSvg,
  replaceReadmeBlock,
  resultsTarget,
} from './src/report.js'
import { measureSizes } from './src/size.js'
import { BARE, CONTENDERS, type HttpClient, MINIMAL, PEERS, TOKENWELL } from './src/subjects.js'

const args = new Set(process.argv.slice(2))
const quick = args.has('--quick')
const lifetimesArg = process.argv.find((arg) => arg.startsWith('--lifetimes='))
/** `--lifetimes=2,5`: the sweep runs only these token lifetimes (s). */
const onlyLifetimes = lifetimesArg?.slice('--lifetimes='.length).split(',').map(Number)
const benchDir = fileURLToPath(new URL('.', import.meta.url))
const resultsDir = fileURLToPath(new URL(`./${resultsTarget({ quick }).dir}`, import.meta.url))

/** The token endpoint answers after this many ms, as a real one over a network would. */
const TOKEN_LATENCY = 50

const config = {
  overhead: {
    clients: ['axios', 'got', 'fetch', 'undici', 'ky'],
    reps: quick ? 2 : 8,
    durationMs: quick ? 300 : 1_500,
    // 300 left the JIT still compiling in the measured part: tokenwell, more code, paid more of it
    warmupRequests: quick ? 200 : 3_000,
    concurrency: 16,
  } satisfies OverheadOptions,
  fastPath: { iterations: quick ? 100_000 : 1_000_000, reps: 5 },
  coldBurst: { calls: quick ? 1_000 : 10_000, connections: 256 },
  storm: { calls: 1_000, connections: 256 },
  steady: {
    lifetimeS: 2,
    durationMs: quick ? 2_500 : 4_500,
    concurrency: 16,
    refreshSkew: 100,
    tokenLatency: TOKEN_LATENCY,
    connections: 64,
  } satisfies SteadyOptions,
  /** Refresh-ahead across lifetimes: default refreshSkew, a 300 ms token endpoint, 24 in flight. */
  sweep: {
    lifetimes: quick
      ? [
          { lifetimeS: 2, durationMs: 6_000 },
          { lifetimeS: 5, durationMs: 12_000 },
        ]
      : [
          { lifetimeS: 2, durationMs: 8_000 },
          { lifetimeS: 5, durationMs: 20_000 },
          // at least two lifetimes each, so each run crosses two refreshes
          { lifetimeS: 60, durationMs: 130_000 },
          { lifetimeS: 300, durationMs: 630_000 },
        ],
    options: { concurrency: 24, refreshSkew: 30_000, tokenLatency: 300, connections: 64 },
  },
  /** A target missed by an adapter is profiled for this long per side. */
  profileMs: quick ? 500 : 1000,
} as const

const log = (line: string) => process.stderr.write(`${line}\n`)
const fixed = (n: number, digits = 1) => n.toFixed(digits)

async function main(): Promise<void> {
  if (quick)
    log(
      '--quick: short trials, rough numbers; writing bench/results/quick/, not the README or bench/results/',
    )
  if (args.has('--sweep')) {
    await sweepOnly()
    return
  }
  if (args.has('--report')) {
    const results = JSON.parse(readFileSync(`${resultsDir}results.json`, 'utf8')) as BenchResults
    results.targets = evaluateTargets(results) // as this code checks them
    write(results)
    return
  }
  const started = now()
  const loadAtStart = loadavg()[0]!
  log('size: bundling each entry with esbuild …')
  const size = await measureSizes(benchDir)

  const servers = await startRemoteBenchServers({ latency: TOKEN_LATENCY, tokenLifetime: 3600 })
  try {
    log('getToken() fast path …')
    const fastPath = await measureFastPath(servers.tokenEndpoint, config.fastPath)
    log(`  ${fixed(fastPath.nsPerOp)} ns/op (an awaited async function: ${fixed(fastPath.floorNsPerOp)} ns)`)

    log(`overhead: ${config.overhead.reps} alternating trials of ${config.overhead.durationMs} ms per side …`)
    const overhead = await measureOverhead(servers, config.overhead, (client, t) =>
      log(
        `  ${client} ${t.side.padEnd(9)} rep ${t.rep}: ${fixed(t.throughput, 0)} req/s, ${fixed(t.cpuUsPerRequest, 0)} µs CPU/req, p50 ${fixed(t.p50, 2)} ms, p99 ${fixed(t.p99, 2)} ms`,
      ),
    )
    for (const o of overhead) {
      log(
        `  ${o.client}: tokenwell/bare = ${fixed(o.ratio * 100)}% (by CPU per request: ${fixed(o.cpuRatio * 100)}%)`,
      )
    }

    const profiles: ProfileResult[] = []
    const staticToken = await fetchStaticToken(servers)
    for (const o of overhead) {
      if (Math.min(o.ratio, o.cpuRatio) >= 0.97 && !args.has('--profile')) continue
      log(`profiling ${o.client}: bare, with a minimal interceptor, with tokenwell …`)
      profiles.push(await profileClient(servers, o.client, staticToken))
    }

    const concurrency = { coldBurst: [], storm: [], steady: [] } as BenchResults['concurrency']
    log(`cold burst: ${config.coldBurst.calls} concurrent requests on a cold client …`)
    for (const spec of CONTENDERS) {
      const r = await coldBurst(servers, spec, config.coldBurst)
      concurrency.coldBurst.push(r)
      log(`  ${spec.label}: ${r.tokenRequests} token requests, ${r.failed} failed, ${fixed(r.wallMs, 0)} ms`)
    }
    log(`401 storm: ${config.storm.calls} requests in flight with a revoked token …`)
    for (const spec of CONTENDERS) {
      const r = await storm(servers, spec, config.storm)
      concurrency.storm.push(r)
      log(`  ${spec.label}: ${r.tokenRequests} token requests, ${r.failed} failed, ${r.unauthorized} 401s`)
    }
    log(
      `steady load: ${config.steady.durationMs} ms per library, ${config.steady.lifetimeS} s tokens, token endpoint ${TOKEN_LATENCY} ms …`,
    )
    for (const spec of CONTENDERS) {
      const r = await steady(servers, spec, config.steady)
      concurrency.steady.push(r)
      log(
        `  ${spec.label}: ${r.tokenRequests} token requests (max ${r.maxConcurrentTokenRequests} at once), ${r.waited} waited, ${r.unauthorized} 401s, ${r.failed} failed, p99 ${fixed(r.p99, 2)} ms, p99 around refresh ${fixed(r.p99AroundRefresh, 2)} ms`,
      )
    }

    const sweep = await runSweep(servers)
    await servers.control.setLatency(TOKEN_LATENCY)

    const results: BenchResults = {
      meta: {
        date: new Date().toISOString(),
        machine: describeMachine(),
        durationS: (now() - started) / 1000,
        quick,
        loadAverage: { start: loadAtStart, end: loadavg()[0]! },
        config,
      },
      targets: [],
      fastPath,
      overhead,
      profiles,
      concurrency: { ...concurrency, sweep },
      size,
      setups: [...Object.values(BARE), ...Object.values(TOKENWELL), ...PEERS, ...Object.values(MINIMAL)].map(
        ({ label, setup }) => ({
          label,
          setup,
        }),
      ),
    }
    results.targets = evaluateTargets(results)
    write(results)
  } finally {
    await servers.close()
  }
}

/** Refresh-ahead across lifetimes (tokenwell over fetch), each result logged as it comes. */
async function runSweep(servers: Awaited<ReturnType<typeof startRemoteBenchServers>>) {
  const lifetimes = config.sweep.lifetimes.filter(
    (l) => onlyLifetimes === undefined || onlyLifetimes.includes(l.lifetimeS),
  )
  log('refresh-ahead across lifetimes (tokenwell, fetch; token endpoint 300 ms, default refreshSkew) …')
  const fetchSpec = CONTENDERS.find((spec) => spec.id === 'tokenwell-fetch')
  if (!fetchSpec) return []
  return lifetimeSweep(servers, fetchSpec, lifetimes, config.sweep.options, (l, r) =>
    log(
      `  ${l.lifetimeS} s tokens, ${l.durationMs} ms: ${r.requests} requests, ${r.tokenRequests} token requests over ${fixed(r.lifetimes)} lifetimes (max ${r.maxConcurrentTokenRequests} at once, ${r.maxTokenRequestsPerLifetime} per token lifetime), ${r.tokenWaits} waited on a token request (counted in the provider), ${r.waited} slow around a refresh (${fixed(r.waitedByChance)} by chance), ${r.failed} failed, p99 ${fixed(r.p99, 1)} ms, load ${fixed(loadavg()[0]!, 2)}`,
    ),
  )
}

/** `--sweep`: only the refresh-ahead sweep, written to bench/results/quick/sweep.json. */
async function sweepOnly(): Promise<void> {
  const loadAtStart = loadavg()[0]!
  const servers = await startRemoteBenchServers({ latency: TOKEN_LATENCY, tokenLifetime: 3600 })
  try {
    const sweep = await runSweep(servers)
    const dir = fileURLToPath(new URL('./results/quick/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    const meta = { date: new Date().toISOString(), machine: describeMachine(), quick }
    const loadAverage = { start: loadAtStart, end: loadavg()[0]! }
    const json = { meta: { ...meta, loadAverage, config: config.sweep }, sweep }
    writeFileSync(`${dir}sweep.json`, `${JSON.stringify(json, null, 2)}\n`)
    log(
      `wrote bench/results/quick/sweep.json (load average ${fixed(loadAverage.start, 2)} → ${fixed(loadAverage.end, 2)})`,
    )
  } finally {
    await servers.close()
  }
}

/** CPU profiles of the bare client, of the client with a minimal interceptor, and of the adapter: one closed-loop trial each. */
async function profileClient(
  servers: Awaited<ReturnType<typeof startRemoteBenchServers>>,
  client: HttpClient,
  staticToken: string,
): Promise<ProfileResult> {
  const options = { ...config.overhead, durationMs: config.profileMs }
  const side = async (spec: (typeof BARE)[HttpClient]) => {
    let summary: ReturnType<typeof summarizeProfile> | undefined
    const run = await runTrial(servers, spec, staticToken, options, async (measure) => {
      const { result, profile: cpu } = await profile(measure)
      summary = summarizeProfile(cpu, isTokenwellUrl)
      return result
    })
    return {
      requests: run.count,
      cpuUsPerRequest: run.cpuUsPerRequest,
      // the profiler's samples are wall time, so their share is applied to the CPU time
      tokenwellUsPerRequest: run.cpuUsPerRequest * (summary!.oursMs / Math.max(summary!.busyMs, 1e-9)),
      summary: summary!,
    }
  }
  return {
    client,
    bare: await side(BARE[client]),
    minimal: { label: MINIMAL[client].label, ...(await side(MINIMAL[client])) },
    tokenwell: await side(TOKENWELL[client]),
  }
}

function write(results: BenchResults): void {
  const target = resultsTarget(results.meta)
  const dir = fileURLToPath(new URL(target.dir, import.meta.url))
  mkdirSync(dir, { recursive: true })
  const markdown = renderMarkdown(results)
  writeFileSync(`${dir}results.json`, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(`${dir}results.md`, markdown)
  writeFileSync(`${dir}chart.svg`, renderSvg(results))
  if (target.readme) {
    // the root README quotes the summary between its bench markers
    const readmePath = fileURLToPath(new URL('../README.md', import.meta.url))
    const readme = readFileSync(readmePath, 'utf8')
    const updated = replaceReadmeBlock(readme, renderReadmeBlock(results))
    if (updated !== readme) writeFileSync(readmePath, updated)
  }
  process.stdout.write(`${markdown}\n`)
  const wrote = `bench/${target.dir}results.json, results.md, chart.svg`
  log(
    target.readme
      ? `wrote ${wrote} and the README summary (${fixed(results.meta.durationS, 0)} s)`
      : `quick run: wrote ${wrote} only (${fixed(results.meta.durationS, 0)} s); the README and bench/results/ keep the last full run (pnpm bench)`,
  )
}

await main()
