import { Session } from 'node:inspector/promises'

/** The V8 CPU profile format (Profiler.stop), as much of it as the summary reads. */
interface CpuProfile {
  nodes: {
    id: number
    callFrame: { functionName: string; url: string; lineNumber: number }
    children?: number[]
  }[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface FunctionTime {
  /** `name (file:line)` */
  readonly fn: string
  /** ms on CPU in the function itself. */
  readonly selfMs: number
  /** ms on CPU in the function or what it called. */
  readonly totalMs: number
}

export interface ProfileSummary {
  /** ms the process was on CPU (idle excluded) during the profile. */
  readonly busyMs: number
  /** ms on CPU with one of our functions on the stack. */
  readonly oursMs: number
  readonly topOurs: readonly FunctionTime[]
  readonly topSelf: readonly FunctionTime[]
  /** ms of self time per function, for the 300 busiest. */
  readonly self: Readonly<Record<string, number>>
}

/** Runs `work` under the V8 sampling profiler of this process. */
export async function profile<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
    const result = await work()
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }
    return { result, profile }
  } finally {
    session.disconnect()
  }
}

/**
 * Where the CPU time went: self and total time per function, and how much of it ran under a
 * function whose file `isOurs` (its URL) accepts.
 */
export function summarizeProfile(
  profile: CpuProfile,
  isOurs: (url: string) => boolean,
  top = 12,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const name = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '')
    return `${functionName || '(anonymous)'} (${file || 'native'}${url ? `:${lineNumber + 1}` : ''})`
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let busy = 0
  let ours = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    // a sample's time is the delta that follows it
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
    const leaf = byId.get(id)!.callFrame.functionName
    if (leaf === '(idle)') continue
    busy += ms
    const key = name(id)
    self.set(key, (self.get(key) ?? 0) + ms)
    const onStack = new Set<string>()
    let underOurs = false
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (isOurs(frame.url)) {
        underOurs = true
        onStack.add(name(at))
      }
    }
    if (underOurs) ours += ms
    for (const fn of onStack) total.set(fn, (total.get(fn) ?? 0) + ms)
  }
  const rows = (keys: Iterable<string>) =>
    [...keys].map((fn) => ({ fn, selfMs: self.get(fn) ?? 0, totalMs: total.get(fn) ?? self.get(fn) ?? 0 }))
  return {
    busyMs: busy,
    oursMs: ours,
    topOurs: rows(total.keys())
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top),
    topSelf: rows(self.keys())
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    self: Object.fromEntries([...self].sort((a, b) => b[1] - a[1]).slice(0, 300)),
  }
}

/**
 * The functions whose self time per request grew most from `base` to `other`: where the extra
 * CPU of `other` goes, whoever's code it is (a constructor the adapter calls counts too).
 */
export function selfTimeIncrease(
  base: { summary: ProfileSummary; requests: number },
  other: { summary: ProfileSummary; requests: number },
  top = 10,
): { fn: string; usPerRequest: number }[] {
  const per = (side: typeof base, fn: string) => ((side.summary.self[fn] ?? 0) * 1000) / side.requests
  const names = new Set([...Object.keys(base.summary.self), ...Object.keys(other.summary.self)])
  return [...names]
    .map((fn) => ({ fn, usPerRequest: per(other, fn) - per(base, fn) }))
    .sort((a, b) => b.usPerRequest - a.usPerRequest)
    .slice(0, top)
}

/** Our adapter and core code, built or from sources. */
export const isTokenwellUrl = (url: string): boolean =>
  /\/packages\/(core|axios|got|fetch)\/(dist|src)\//.test(url)
