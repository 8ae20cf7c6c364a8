import type { StoreEntry, StoreLease, TokenStore } from '../../src/index.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A token endpoint (an injected fetch) with refresh token rotation and reuse detection, as the
 * mock server has: a spent refresh token presented again is counted and revokes the family.
 * It processes each request after `latency` ms whether or not the client still waits.
 */
export function rotatingEndpoint(options: { lifetime: number; latency: () => number }) {
  const spent = new Set<string>()
  let revoked = false
  const stats = { requests: 0, redemptions: new Map<string, number>(), reuse: 0, invalidGrant: 0 }
  let n = 0
  const fetch = async (request: Request) => {
    stats.requests++
    const form = new URLSearchParams(await request.text())
    await sleep(options.latency())
    const presented = form.get('refresh_token') ?? ''
    stats.redemptions.set(presented, (stats.redemptions.get(presented) ?? 0) + 1)
    if (revoked || spent.has(presented)) {
      if (spent.has(presented)) stats.reuse++
      revoked = true
      stats.invalidGrant++
      return Response.json({ error: 'invalid_grant' }, { status: 400 })
    }
    spent.add(presented)
    n++
    return Response.json({
      access_token: `at${n}`,
      token_type: 'Bearer',
      expires_in: options.lifetime,
      refresh_token: `rt${n}`,
    })
  }
  return { fetch, stats }
}

/**
 * A shared store as Redis offers it, on the (fake) clock: a lease with a TTL, extend and a
 * fenced set, and waitForEntry that polls. One instance stands for the Redis of a fleet.
 */
export function fleetStore(clock: () => number) {
  const entries = new Map<string, { entry: StoreEntry; until: number }>()
  const refresh = new Map<string, string>()
  /** Per key, as Redis keeps one lock and one fence per cache key (and per refresh token's family key). */
  const locks = new Map<string, { owner: number; until: number }>()
  const fences = new Map<string, number>()
  let owners = 0
  const read = (key: string) => {
    const hit = entries.get(key)
    return hit && hit.until > clock() ? hit.entry : undefined
  }
  const held = (key: string) => {
    const lock = locks.get(key)
    return lock && lock.until > clock() ? lock : undefined
  }
  const write = (key: string, entry: StoreEntry, ttl: number) => {
    entries.set(key, { entry, until: clock() + ttl })
    if (entry.token.refreshToken) refresh.set(key, entry.token.refreshToken)
  }
  const store: TokenStore = {
    get: async (key) => read(key),
    set: async (key, entry, ttl) => write(key, entry, ttl),
    delete: async (key) => void entries.delete(key),
    async acquireLease(key, ttl) {
      if (held(key)) return undefined
      const owner = ++owners
      const mine = (fences.get(key) ?? 0) + 1
      fences.set(key, mine)
      locks.set(key, { owner, until: clock() + ttl })
      const lease: StoreLease = Object.assign(
        async () => {
          if (locks.get(key)?.owner === owner) locks.delete(key)
        },
        {
          async extend(more: number) {
            if (held(key)?.owner !== owner) return false
            locks.set(key, { owner, until: clock() + more })
            return true
          },
          async set(entry: StoreEntry, entryTtl: number) {
            if (fences.get(key) !== mine) return false
            write(key, entry, entryTtl)
            return true
          },
        },
      )
      return lease
    },
    async waitForEntry(key, timeout, accept) {
      const deadline = clock() + timeout
      for (;;) {
        const entry = read(key)
        if (entry && accept(entry)) return entry
        if (!held(key) || clock() >= deadline) return undefined
        await sleep(40)
      }
    },
    getRefreshToken: async (key) => refresh.get(key),
  }
  return store
}
