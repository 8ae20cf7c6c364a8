import { createTokenProvider, type Token } from '@tokenwell/core'
import { median } from './load.js'
import { secretOf } from './servers.js'

export interface FastPathResult {
  /** `await provider.getToken()` with a cached token, median ns per call. */
  readonly nsPerOp: number
  /** `await` of an async function returning a cached object: the floor any async getter pays. */
  readonly floorNsPerOp: number
  readonly iterations: number
  readonly reps: number
}

/** The cache-hit path of `getToken()`, timed in a tight loop after one token request. */
export async function measureFastPath(
  tokenEndpoint: string,
  { iterations, reps }: { iterations: number; reps: number },
): Promise<FastPathResult> {
  const provider = createTokenProvider({
    tokenEndpoint,
    clientId: 'tw-core',
    clientSecret: secretOf('tw-core'),
  })
  const first = await provider.getToken()
  const floor = async (): Promise<Token> => first
  const loop = async (get: () => Promise<Token>) => {
    let sink = 0
    const start = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) sink += (await get()).accessToken.length
    const ns = Number(process.hrtime.bigint() - start) / iterations
    if (sink === 0) throw new Error('unreachable')
    return ns
  }
  // warm up both loops before timing them
  await loop(() => provider.getToken())
  await loop(floor)
  const timed: number[] = []
  const floors: number[] = []
  for (let rep = 0; rep < reps; rep++) {
    timed.push(await loop(() => provider.getToken()))
    floors.push(await loop(floor))
  }
  await provider.close()
  return { nsPerOp: median(timed), floorNsPerOp: median(floors), iterations, reps }
}
