import { now } from './clock.js'
import { burst, closedLoop, percentile, settle } from './load.js'
import type { BenchServers, TokenRequestSpan } from './servers.js'
import { type SubjectSpec, useFetchPool } from './subjects.js'

/** What one library did in a burst (cold start or 401 storm). */
export interface BurstResult {
  readonly subject: string
  readonly label: string
  /** Requests started at once. */
  readonly calls: number
  /** Token requests the authorization server received from this library. */
  readonly tokenRequests: number
  /** Requests that did not end with a 2xx for the caller. */
  readonly failed: number
  /** 401s the API sent (each a request that had to be refreshed and replayed, or failed). */
  readonly unauthorized: number
  readonly wallMs: number
  readonly p50: number
  readonly p99: number
}

export interface BurstOptions {
  calls: number
  /** Sockets per agent or fetch pool. */
  connections: number
}

/** `calls` concurrent requests on a cold client: nothing cached yet. */
export async function coldBurst(
  servers: BenchServers,
  spec: SubjectSpec,
  options: BurstOptions,
): Promise<BurstResult> {
  await settle()
  const closePool = useFetchPool(options.connections)
  const subject = spec.create({ ...servers, connections: options.connections })
  try {
    await servers.control.reset()
    const run = await burst(subject.request, options.calls)
    return await burstResult(servers, spec, options.calls, run)
  } finally {
    await subject.close()
    await closePool()
  }
}

/**
 * A warm client whose token the API stops accepting (every token revoked), then `calls`
 * concurrent requests: all of them carry the stale token and get a 401.
 */
export async function storm(
  servers: BenchServers,
  spec: SubjectSpec,
  options: BurstOptions,
): Promise<BurstResult> {
  await settle()
  const closePool = useFetchPool(options.connections)
  const subject = spec.create({ ...servers, connections: options.connections })
  try {
    const warm = await subject.request()
    if (warm !== 200) throw new Error(`${spec.label}: warm-up request got ${warm}`)
    await servers.control.reset()
    await servers.control.revokeAll()
    const run = await burst(subject.request, options.calls)
    return await burstResult(servers, spec, options.calls, run)
  } finally {
    await subject.close()
    await closePool()
  }
}

async function burstResult(
  servers: BenchServers,
  spec: SubjectSpec,
  calls: number,
  run: Awaited<ReturnType<typeof burst>>,
): Promise<BurstResult> {
  const [tokenRequests, api] = await Promise.all([
    servers.control.tokenRequests(),
    servers.control.apiStats(),
  ])
  return {
    subject: spec.id,
    label: spec.label,
    calls,
    tokenRequests: tokenRequests[spec.clientId] ?? 0,
    failed: run.failed,
    unauthorized: api.unauthorized,
    wallMs: run.elapsedMs,
    p50: percentile(run.latencies, 50),
    p99: percentile(run.latencies, 99),
  }
}

export interface SteadyOptions {
  /** Access-token lifetime during the run, s. */
  lifetimeS: number
  durationMs: number
  concurrency: number
  /** `refreshSkew` for the libraries that have one (tokenwell, the hand-written interceptor), ms. */
  refreshSkew: number
  /**
   * The token endpoint's latency during the run, ms. A request slower than half of it that was
   * in flight when a token response arrived, and ended within half of it after, waited for it.
   */
  tokenLatency: number
  connections: number
  /** Record at most this many requests (the run stops there); default: the closed loop's cap. */
  maxRequests?: number
}

export interface SteadyResult {
  readonly subject: string
  readonly label: string
  readonly requests: number
  readonly throughput: number
  /** Token requests during the run (the warm-up's excluded). */
  readonly tokenRequests: number
  /** Token lifetimes the run spanned: the number of refreshes a perfect client makes, give or take one. */
  readonly lifetimes: number
  /** Most token requests in flight at one moment: 1 with single-flight. */
  readonly maxConcurrentTokenRequests: number
  /**
   * Most token requests started during one token's lifetime (from its arrival, for tokens whose
   * lifetime ended within the run): 1 when each token is replaced by one request.
   */
  readonly maxTokenRequestsPerLifetime: number
  /** Requests that waited for the token endpoint (see `SteadyOptions.tokenLatency`). */
  readonly waited: number
  /**
   * tokenwell only: requests that found no usable token in the provider and waited for a token
   * request, counted where it happens (no latency heuristic); `undefined` for other libraries.
   */
  readonly tokenWaits?: number
  /**
   * How many requests the same test finds at as many instants far from any token request: slow
   * requests that happen to match (a loaded machine makes more). `waited` near it means none waited.
   */
  readonly waitedByChance: number
  readonly unauthorized: number
  readonly failed: number
  /** What the failed requests ended in: `HTTP <status>`, or what one that threw threw (the first few). */
  readonly failures: readonly string[]
  readonly p50: number
  readonly p99: number
  /** p99 and max of the requests started within one token-endpoint latency of a token request. */
  readonly p99AroundRefresh: number
  readonly maxAroundRefresh: number
}

/**
 * Closed-loop load on a warm client across several token lifetimes: how often it asks for a
 * token, whether callers wait for it, and what latency looks like around each refresh.
 */
export async function steady(
  servers: BenchServers,
  spec: SubjectSpec,
  options: SteadyOptions,
): Promise<SteadyResult> {
  await settle()
  const { control } = servers
  await control.setTokenLifetime(options.lifetimeS)
  await control.setLatency(options.tokenLatency)
  const closePool = useFetchPool(options.connections)
  const subject = spec.create({
    ...servers,
    connections: options.connections,
    refreshSkew: options.refreshSkew,
  })
  try {
    const warm = await subject.request()
    if (warm !== 200) throw new Error(`${spec.label}: warm-up request got ${warm}`)
    await control.reset()
    const waitsBefore = subject.tokenWaits?.() ?? 0
    const began = now()
    const run = await closedLoop(subject.request, {
      concurrency: options.concurrency,
      durationMs: options.durationMs,
      ...(options.maxRequests !== undefined && { maxRequests: options.maxRequests }),
    })
    const ranMs = now() - began
    const tokenWaits = subject.tokenWaits ? subject.tokenWaits() - waitsBefore : undefined
    const [spans, api] = await Promise.all([control.tokenSpans(), control.apiStats()])
    const window = options.tokenLatency
    const slow = options.tokenLatency / 2
    // slow, in flight when something happened at `at`, and done soon after it: it was waiting for it
    const waitedFor = (i: number, at: number) => {
      const start = run.starts[i]!
      const latency = run.latencies[i]!
      return latency >= slow && start < at && at <= start + latency && start + latency - at <= slow
    }
    let waited = 0
    const around: number[] = []
    for (let i = 0; i < run.count; i++) {
      if (spans.some((s) => waitedFor(i, s.end))) waited++
      const start = run.starts[i]!
      if (spans.some((s) => start >= s.start - window && start <= s.end + window))
        around.push(run.latencies[i]!)
    }
    // the same count at instants far from any token request: what slow requests alone produce
    const first = run.starts[0] ?? 0
    const instants = Array.from(
      { length: 40 },
      (_, k) => first + ((k + 0.5) * options.durationMs) / 40,
    ).filter((at) => spans.every((s) => at < s.start - 4 * window || at > s.end + 4 * window))
    let chance = 0
    for (const at of instants) for (let i = 0; i < run.count; i++) if (waitedFor(i, at)) chance++
    return {
      subject: spec.id,
      label: spec.label,
      requests: run.count,
      throughput: run.throughput,
      tokenRequests: spans.length,
      // measured, not asked for: a run that hit its request cap covered fewer lifetimes
      lifetimes: ranMs / (options.lifetimeS * 1000),
      maxConcurrentTokenRequests: maxOverlap(spans),
      maxTokenRequestsPerLifetime: perLifetime(spans, options.lifetimeS * 1000, now()),
      waited,
      ...(tokenWaits !== undefined && { tokenWaits }),
      waitedByChance: instants.length === 0 ? 0 : (chance / instants.length) * spans.length,
      unauthorized: api.unauthorized,
      failed: run.failed,
      failures: [
        ...Array.from(
          run.statuses.filter((s) => s !== 0 && (s < 200 || s >= 300)),
          (s) => `HTTP ${s}`,
        ),
        ...run.errors,
      ],
      p50: percentile(run.latencies, 50),
      p99: percentile(run.latencies, 99),
      p99AroundRefresh: percentile(around, 99),
      maxAroundRefresh: around.length === 0 ? Number.NaN : Math.max(...around),
    }
  } finally {
    await subject.close()
    await closePool()
  }
}

/**
 * The most token requests started during the lifetime of one token, from its arrival (a span's
 * end) to its expiry (`expiresAt`, else `lifetimeMs` later), among tokens that expired by `until`.
 */
export function perLifetime(spans: readonly TokenRequestSpan[], lifetimeMs: number, until: number): number {
  let most = 0
  for (const token of spans) {
    const expires = token.expiresAt ?? token.end + lifetimeMs
    if (expires > until) continue
    const started = spans.filter((s) => s.start > token.end && s.start < expires).length
    most = Math.max(most, started)
  }
  return most
}

/** The most spans that are open at one moment. */
export function maxOverlap(spans: readonly TokenRequestSpan[]): number {
  const events = spans.flatMap((s) => [
    { at: s.start, delta: 1 },
    { at: s.end, delta: -1 },
  ])
  // an end before a start at the same instant: touching spans do not overlap
  events.sort((a, b) => a.at - b.at || a.delta - b.delta)
  let open = 0
  let most = 0
  for (const event of events) {
    open += event.delta
    most = Math.max(most, open)
  }
  return most
}

/** One lifetime of the sweep: its token lifetime (s) and how long to run, ms. */
export interface SweepLifetime {
  lifetimeS: number
  durationMs: number
}

/**
 * Steady load on tokenwell across token lifetimes (2 s … 5 min) with the default `refreshSkew`
 * and a slow token endpoint: refresh-ahead must keep every caller off the token request (0
 * waited), ask once per lifetime (single-flight) and fail nothing.
 */
export async function lifetimeSweep(
  servers: BenchServers,
  spec: SubjectSpec,
  lifetimes: readonly SweepLifetime[],
  options: Omit<SteadyOptions, 'lifetimeS' | 'durationMs'>,
  onResult: (lifetime: SweepLifetime, result: SteadyResult) => void = () => {},
): Promise<(SteadyResult & { lifetimeS: number })[]> {
  const results: (SteadyResult & { lifetimeS: number })[] = []
  for (const lifetime of lifetimes) {
    // room for 20,000 requests a second: the run lasts its whole duration, across its refreshes
    const maxRequests = Math.ceil(lifetime.durationMs * 20)
    const result = await steady(servers, spec, { ...options, ...lifetime, maxRequests })
    onResult(lifetime, result)
    results.push({ ...result, lifetimeS: lifetime.lifetimeS })
  }
  return results
}
