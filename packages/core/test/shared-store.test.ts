import { server } from '@tokenwell/mock-server/msw'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { createTokenProvider, type StoreEntry, type TokenStore } from '../src/index.js'

// How the provider uses a shared store's coordination methods (a fake store here; the Redis
// store runs the same paths against a real redis-server in packages/redis).

const tokenEndpoint = 'https://as.test/token'

function endpoint() {
  const state = { hits: 0, refreshTokensUsed: [] as (string | null)[] }
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const n = ++state.hits
      state.refreshTokensUsed.push(new URLSearchParams(await request.text()).get('refresh_token'))
      return HttpResponse.json({
        access_token: `t${n}`,
        token_type: 'Bearer',
        expires_in: 300,
        refresh_token: `r${n}`,
      })
    }),
  )
  return state
}

/** A store shared with processes we cannot see: `lease` says what acquireLease answers. */
function sharedStore(now: { value: number }, options: { lease: () => boolean; refreshToken?: string }) {
  const entries = new Map<string, StoreEntry>()
  const waits: number[] = []
  const store: TokenStore = {
    get: async (key) => entries.get(key),
    set: async (key, entry) => {
      entries.set(key, entry)
    },
    delete: async (key) => {
      entries.delete(key)
    },
    acquireLease: async () => (options.lease() ? async () => {} : undefined),
    waitForEntry: async (_key, timeout) => {
      waits.push(timeout)
      now.value += timeout // nothing arrives: the whole timeout passes
      return undefined
    },
    getRefreshToken: async () => options.refreshToken,
  }
  return { store, waits }
}

const options = { tokenEndpoint, clientId: 'c', clientSecret: 's', refreshAhead: false, lockTtl: 1_000 }

describe('a provider on a shared store', () => {
  it('waits for a lease that never frees as long as its holder may still be redeeming, then fetches for itself', async () => {
    const state = endpoint()
    const now = { value: 0 }
    const { store, waits } = sharedStore(now, { lease: () => false })
    // a holder's attempt lasts at most retry.deadline + max(timeout, retry.deadline) = 4 s, + lockTtl
    const retry = { deadline: 2_000 }
    const provider = createTokenProvider({ ...options, retry, timeout: 500, store, clock: () => now.value })

    expect((await provider.getToken()).accessToken).toBe('t1')
    expect(waits).toEqual([1_000, 1_000, 1_000, 1_000, 1_000])
    expect(state.hits).toBe(1)
  })

  it('never redeems a refresh token while another process holds the lease, however long it waits', async () => {
    const state = endpoint()
    const now = { value: 0 }
    const { store, waits } = sharedStore(now, { lease: () => false })
    const grant = { type: 'refresh_token', refreshToken: 'r0' } as const
    const retry = { deadline: 2_000 }
    const provider = createTokenProvider({
      ...options,
      grant,
      retry,
      timeout: 500,
      store,
      clock: () => now.value,
    })

    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    expect(waits).toHaveLength(5)
    expect(state.hits).toBe(0)
  })

  it('takes the lease itself when it is free again after a wait (its holder failed or died)', async () => {
    const state = endpoint()
    const now = { value: 0 }
    let attempts = 0
    const { store, waits } = sharedStore(now, { lease: () => ++attempts > 1 })
    const provider = createTokenProvider({ ...options, store, clock: () => now.value })

    expect((await provider.getToken()).accessToken).toBe('t1')
    expect(attempts).toBe(2)
    expect(waits).toEqual([1_000])
    expect(state.hits).toBe(1)
  })

  it('redeems the refresh token the store holds, not its own copy, while it holds the lease', async () => {
    const state = endpoint()
    const now = { value: 0 }
    const { store } = sharedStore(now, { lease: () => true, refreshToken: 'rotated-by-another-process' })
    const grant = { type: 'refresh_token' as const, refreshToken: 'spent-initial' }
    const provider = createTokenProvider({ ...options, grant, store, clock: () => now.value })

    await provider.getToken()
    expect(state.refreshTokensUsed).toEqual(['rotated-by-another-process'])
  })

  it('never takes back a refresh token it rotated away from (a store that missed its write)', async () => {
    const state = endpoint()
    const now = { value: 0 }
    const shared = { refreshToken: undefined as string | undefined }
    const { store } = sharedStore(now, { lease: () => true })
    store.getRefreshToken = async () => shared.refreshToken
    const grant = { type: 'refresh_token' as const, refreshToken: 'r0' }
    const provider = createTokenProvider({ ...options, grant, store, clock: () => now.value })

    const first = await provider.getToken() // redeems r0, gets r1
    shared.refreshToken = 'r0' // the store is behind: it still holds the spent one
    await provider.invalidate(first)
    await provider.getToken()
    expect(state.refreshTokensUsed).toEqual(['r0', 'r1'])
  })
})

describe('a lease taken over from a holder that died or stalled mid-refresh', () => {
  const sha256 = async (text: string) =>
    Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))), (b) =>
      b.toString(16).padStart(2, '0'),
    ).join('')

  /**
   * A store whose lease on the cache key carries `inDoubt` (the mark a previous holder left) and
   * records marks; a refresh token's family key (store-families.ts) gets a plain lease.
   */
  async function markedStore(refreshToken: string, inDoubt: string | undefined) {
    const marks: (string | undefined)[] = []
    const { store } = sharedStore({ value: 0 }, { lease: () => true, refreshToken })
    const lease = Object.assign(async () => {}, {
      inDoubt,
      extend: async () => true,
      redeeming: async (fingerprint: string | undefined) => {
        marks.push(fingerprint)
        return true
      },
    })
    const acquireLease = async (key: string, ttl: number) =>
      key.startsWith('tokenwell:family:') ? store.acquireLease!(key, ttl) : lease
    return { store: { ...store, acquireLease } satisfies TokenStore, marks }
  }

  it('never redeems the refresh token the previous holder marked; a password grant starts over', async () => {
    const state = endpoint()
    const { store, marks } = await markedStore('r-marked', await sha256('r-marked'))
    const grant = { type: 'password' as const, username: 'u', password: 'p' }
    const provider = createTokenProvider({ ...options, grant, store })

    expect((await provider.getToken()).accessToken).toBe('t1')
    expect(state.refreshTokensUsed).toEqual([null]) // a password grant, not a replay of r-marked
    expect(marks).toEqual([]) // it redeemed nothing, so it marked nothing
  })

  it('a refresh_token grant fails with AuthorizationError instead of redeeming the marked refresh token', async () => {
    const state = endpoint()
    const { store } = await markedStore('r-marked', await sha256('r-marked'))
    const grant = { type: 'refresh_token' as const, refreshToken: 'r-marked' }
    const provider = createTokenProvider({ ...options, grant, store })

    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
    expect(state.hits).toBe(0)
  })

  it('a mark for another refresh token changes nothing: the holder marks its own, redeems it, then clears the mark', async () => {
    const state = endpoint()
    const { store, marks } = await markedStore('r-current', await sha256('r-older'))
    const grant = { type: 'refresh_token' as const, refreshToken: 'r-current' }
    const provider = createTokenProvider({ ...options, grant, store })

    expect((await provider.getToken()).accessToken).toBe('t1')
    expect(state.refreshTokensUsed).toEqual(['r-current'])
    for (let i = 0; i < 20 && marks.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(marks).toEqual([await sha256('r-current'), undefined])
  })
})
