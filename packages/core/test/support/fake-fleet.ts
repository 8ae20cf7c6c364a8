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
  let lock: { owner: number; until: number } | undefined
  let fence = 0
  let owners = 0
  const read = (key: string) => {
    const hit = entries.get(key)
    return hit && hit.until > clock() ? hit.entry : undefined
  }
  const held = () => (lock && lock.until > clock() ? lock : undefined)
  const write = (key: string, entry: StoreEntry, ttl: number) => {
    entries.set(key, { entry, until: clock() + ttl })
    if (entry.token.refreshToken) refresh.set(key, entry.token.refreshToken)
  }
  const store: TokenStore = {
    get: async (key) => read(key),
    set: async (key, entry, ttl) => write(key, entry, ttl),
    delete: async (key) => void entries.delete(key),
    async acquireLease(key, ttl) {
      if (held()) return undefined
      const owner = ++owners
      const mine = ++fence
      lock = { owner, until: clock() + ttl }
      const lease: StoreLease = Object.assign(
        async () => {
          if (lock?.owner === owner) lock = undefined
        },
        {
          async extend(more: number) {
            if (held()?.owner !== owner) return false
            lock = { owner, until: clock() + more }
            return true
          },
          async set(entry: StoreEntry, entryTtl: number) {
            if (fence !== mine) return false
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
        if (!held() || clock() >= deadline) return undefined
        await sleep(40)
      }
    },
    getRefreshToken: async (key) => refresh.get(key),
  }
  return store
}
