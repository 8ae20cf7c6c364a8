import { createTokenProvider } from '@tokenwell/core'
import { closedLoop, type LoadResult, median, percentile, settle } from './load.js'
import { type BenchServers, secretOf } from './servers.js'
import { BARE, type HttpClient, type SubjectSpec, TOKENWELL, useFetchPool } from './subjects.js'

export interface OverheadOptions {
  clients: readonly HttpClient[]
  /** Trials per side; the order alternates (bare first, then tokenwell first, …). */
  reps: number
  durationMs: number
  /** Or stop each measured trial after this many requests (the bench's own test uses it). */
  maxRequests?: number
  /** Closed-loop requests before each measured trial (JIT, sockets, the token). */
  warmupRequests: number
  concurrency: number
}

export interface OverheadTrial {
  readonly rep: number
  readonly side: 'bare' | 'tokenwell'
  /** Position in its rep: 0 ran first. */
  readonly position: number
  readonly throughput: number
  /** CPU time of the client process per request, µs. */
  readonly cpuUsPerRequest: number
  readonly p50: number
  readonly p99: number
  readonly requests: number
  readonly failed: number
}

export interface OverheadSide {
  readonly label: string
  /** Median over the trials, requests/s. */
  readonly throughput: number
  /** Median over the trials, µs of client CPU per request. */
  readonly cpuUsPerRequest: number
  /** Medians over the trials, ms. */
  readonly p50: number
  readonly p99: number
}

export interface OverheadResult {
  readonly client: HttpClient
  readonly bare: OverheadSide
  readonly tokenwell: OverheadSide
  /** Median over the reps of tokenwell/bare throughput (each rep pairs two back-to-back trials). */
  readonly ratio: number
  readonly ratios: readonly number[]
  /**
   * Median over the reps of bare/tokenwell client CPU per request: the throughput ratio a
   * CPU-bound client would reach, and far steadier than throughput on a shared machine.
   */
  readonly cpuRatio: number
  readonly trials: readonly OverheadTrial[]
}

/**
 * Closed-loop requests with a warm token, each adapter against the same client sending a
 * static header, on the same API; trials alternate which side goes first.
 */
export async function measureOverhead(
  servers: BenchServers,
  options: OverheadOptions,
  onTrial: (client: HttpClient, trial: OverheadTrial) => void = () => {},
): Promise<OverheadResult[]> {
  const staticToken = await fetchStaticToken(servers)
  const results: OverheadResult[] = []
  for (const client of options.clients) {
    const sides = { bare: BARE[client], tokenwell: TOKENWELL[client] }
    const trials: OverheadTrial[] = []
    for (let rep = 0; rep < options.reps; rep++) {
      const order = rep % 2 === 0 ? (['bare', 'tokenwell'] as const) : (['tokenwell', 'bare'] as const)
      for (const [position, side] of order.entries()) {
        const run = await runTrial(servers, sides[side], staticToken, options)
        const record: OverheadTrial = {
          rep,
          side,
          position,
          throughput: run.throughput,
          cpuUsPerRequest: run.cpuUsPerRequest,
          p50: percentile(run.latencies, 50),
          p99: percentile(run.latencies, 99),
          requests: run.count,
          failed: run.failed,
        }
        trials.push(record)
        onTrial(client, record)
      }
    }
    const pick = (side: 'bare' | 'tokenwell'): OverheadSide => {
      const mine = trials.filter((t) => t.side === side)
      return {
        label: sides[side].label,
        throughput: median(mine.map((t) => t.throughput)),
        cpuUsPerRequest: median(mine.map((t) => t.cpuUsPerRequest)),
        p50: median(mine.map((t) => t.p50)),
        p99: median(mine.map((t) => t.p99)),
      }
    }
    const of = (rep: number, side: string) => trials.find((t) => t.rep === rep && t.side === side)!
    const reps = Array.from({ length: options.reps }, (_, rep) => rep)
    const ratios = reps.map((rep) => of(rep, 'tokenwell').throughput / of(rep, 'bare').throughput)
    const cpuRatios = reps.map(
      (rep) => of(rep, 'bare').cpuUsPerRequest / of(rep, 'tokenwell').cpuUsPerRequest,
    )
    results.push({
      client,
      bare: pick('bare'),
      tokenwell: pick('tokenwell'),
      cpuRatio: median(cpuRatios),
      ratio: median(ratios),
      ratios,
      trials,
    })
  }
  return results
}

/** One closed-loop trial of `spec` on a fresh agent (or fetch pool), after its warm-up; `wrap` may observe the measured part. */
export async function runTrial(
  servers: BenchServers,
  spec: SubjectSpec,
  staticToken: string,
  options: Omit<OverheadOptions, 'clients' | 'reps'>,
  wrap: (measure: () => Promise<LoadResult>) => Promise<LoadResult> = (measure) => measure(),
): Promise<LoadResult> {
  await settle()
  const closePool = useFetchPool(options.concurrency)
  const subject = spec.create({ ...servers, connections: options.concurrency, staticToken })
  try {
    await closedLoop(subject.request, {
      concurrency: options.concurrency,
      maxRequests: options.warmupRequests,
    })
    const run = await wrap(() =>
      closedLoop(subject.request, {
        concurrency: options.concurrency,
        durationMs: options.durationMs,
        ...(options.maxRequests !== undefined && { maxRequests: options.maxRequests }),
      }),
    )
    if (run.failed > 0) throw new Error(`${spec.label}: ${run.failed} of ${run.count} requests failed`)
    return run
  } finally {
    await subject.close()
    await closePool()
  }
}

/** A token for the bare clients' static header, from the same server. */
export async function fetchStaticToken(servers: BenchServers): Promise<string> {
  const provider = createTokenProvider({
    tokenEndpoint: servers.tokenEndpoint,
    clientId: 'bare',
    clientSecret: secretOf('bare'),
  })
  const token = await provider.getToken()
  await provider.close()
  return token.accessToken
}
