import { now } from './clock.js'

/** What a run of requests measured; times are epoch ms (see clock.ts). */
export interface LoadResult {
  /** Requests completed (whatever their status). */
  readonly count: number
  /** Requests whose final status was 2xx. */
  readonly ok: number
  /** Requests that ended with another status, or a network error (status 0). */
  readonly failed: number
  readonly elapsedMs: number
  /** Completed requests per second. */
  readonly throughput: number
  /**
   * CPU time this process used per completed request (user + system, µs): unlike throughput,
   * it hardly moves when other work on the machine takes the CPU away.
   */
  readonly cpuUsPerRequest: number
  readonly starts: Float64Array
  readonly latencies: Float64Array
  readonly statuses: Uint16Array
  /** What the first requests that threw (status 0) threw, at most `MAX_ERRORS`: a failure explains itself. */
  readonly errors: readonly string[]
}

export interface ClosedLoopOptions {
  /** Requests kept in flight at once: each worker sends its next request when the last one ends. */
  concurrency: number
  /** Stop starting requests after this long. */
  durationMs?: number
  /** Or after this many requests in total. */
  maxRequests?: number
}

/** At most this many errors are kept by one run. */
const MAX_ERRORS = 5

/**
 * The status `request` ends with, or 0 when it throws: then what it threw (its code, a network
 * error's, and message) goes on `errors`, while they are fewer than `MAX_ERRORS`.
 */
async function statusOf(request: () => Promise<number>, errors: string[]): Promise<number> {
  try {
    return await request()
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
    if (errors.length < MAX_ERRORS)
      errors.push([code, message ?? String(error)].filter((part) => part !== undefined).join(': '))
    return 0
  }
}

/** At most this many requests are recorded by one closed loop, unless `maxRequests` says otherwise. */
const MAX_SAMPLES = 400_000

/**
 * Closed-loop load: `concurrency` workers, each sending one request after another, until the
 * duration or the request count is reached. Throughput is completed requests over the time
 * until the last one ended.
 */
export async function closedLoop(
  request: () => Promise<number>,
  { concurrency, durationMs = Number.POSITIVE_INFINITY, maxRequests = MAX_SAMPLES }: ClosedLoopOptions,
): Promise<LoadResult> {
  // a long run (the refresh-ahead sweep's 300 s tokens) asks for more samples explicitly
  const limit = Number.isFinite(maxRequests) ? maxRequests : MAX_SAMPLES
  const starts = new Float64Array(limit)
  const latencies = new Float64Array(limit)
  const statuses = new Uint16Array(limit)
  const errors: string[] = []
  let next = 0
  const cpu = process.cpuUsage()
  const begin = now()
  const deadline = begin + durationMs
  async function worker(): Promise<void> {
    while (next < limit) {
      const start = now()
      if (start >= deadline) return
      const i = next++
      const status = await statusOf(request, errors)
      starts[i] = start
      latencies[i] = now() - start
      statuses[i] = status
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return summarize(next, now() - begin, process.cpuUsage(cpu), starts, latencies, statuses, errors)
}

/** `calls` requests started at once; resolves when every one has ended. */
export async function burst(request: () => Promise<number>, calls: number): Promise<LoadResult> {
  const starts = new Float64Array(calls)
  const latencies = new Float64Array(calls)
  const statuses = new Uint16Array(calls)
  const errors: string[] = []
  const cpu = process.cpuUsage()
  const begin = now()
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      const start = now()
      const status = await statusOf(request, errors)
      starts[i] = start
      latencies[i] = now() - start
      statuses[i] = status
    }),
  )
  return summarize(calls, now() - begin, process.cpuUsage(cpu), starts, latencies, statuses, errors)
}

function summarize(
  count: number,
  elapsedMs: number,
  cpu: NodeJS.CpuUsage,
  starts: Float64Array,
  latencies: Float64Array,
  statuses: Uint16Array,
  errors: readonly string[],
): LoadResult {
  let ok = 0
  for (let i = 0; i < count; i++) if (statuses[i]! >= 200 && statuses[i]! < 300) ok++
  return {
    count,
    ok,
    failed: count - ok,
    elapsedMs,
    throughput: (count / elapsedMs) * 1000,
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, count),
    starts: starts.subarray(0, count),
    latencies: latencies.subarray(0, count),
    statuses: statuses.subarray(0, count),
    errors,
  }
}

/** The `p`-th percentile (0–100, nearest rank) of `values`; NaN when empty. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

/** The median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Waits until the event loop has been idle for a moment, and collects garbage when allowed. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50))
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise((resolve) => setTimeout(resolve, 20))
}
