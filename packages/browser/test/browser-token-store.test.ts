import { createBrowserTokenStore } from '@tokenwell/browser'
import { afterEach, describe, expect, it } from 'vitest'
import { forgetRefreshFamilies } from '../../core/src/provider/families.js'
import { createLockRegistry } from './fake-locks.js'
import { createOrigin, mockTokenEndpoint, slowChannel } from './tabs.js'

const origins: ReturnType<typeof createOrigin>[] = []
const origin = (...args: Parameters<typeof createOrigin>) => {
  const created = createOrigin(...args)
  origins.push(created)
  return created
}
afterEach(() => {
  for (const o of origins.splice(0)) o.closeAll()
})

describe('tabs of one origin sharing a browser store', () => {
  it('4 tabs × 25 concurrent getToken() on a cold start: exactly 1 token request', async () => {
    const endpoint = mockTokenEndpoint()
    const tabs = origin().tabs(4)
    expect(tabs.every((t) => t.store.shared)).toBe(true)
    const tokens = await Promise.all(
      tabs.flatMap((t) => Array.from({ length: 25 }, () => t.provider.getToken())),
    )
    expect(endpoint.hits).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['at-1']))
  })

  it('a tab opened later gets the token from the open tabs without a token request', async () => {
    const endpoint = mockTokenEndpoint()
    const o = origin()
    const [first] = o.tabs(2)
    await first!.provider.getToken()
    const late = o.tab()
    expect((await late.provider.getToken()).accessToken).toBe('at-1')
    expect(endpoint.hits).toBe(1)
  })

  it('a 401 storm in every tab (all invalidate the same token) causes exactly 1 refresh', async () => {
    const endpoint = mockTokenEndpoint()
    const tabs = origin().tabs(4)
    const stale = await tabs[0]!.provider.getToken()
    await Promise.all(tabs.map((t) => t.provider.getToken()))
    const fresh = await Promise.all(
      tabs.flatMap((t) =>
        Array.from({ length: 10 }, async () => {
          await t.provider.invalidate(stale)
          return t.provider.getToken()
        }),
      ),
    )
    expect(endpoint.hits).toBe(2)
    expect(new Set(fresh.map((t) => t.accessToken))).toEqual(new Set(['at-2']))
  })

  it('rotating refresh tokens across 4 tabs: each refresh token is redeemed exactly once', async () => {
    const refreshTokens = new Set(['rt-0'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    let now = 1_000_000
    const clock = () => now
    const o = origin({ grant: { type: 'refresh_token', refreshToken: 'rt-0' }, clock })
    const tabs = o.tabs(4, { clock })
    for (let round = 1; round <= 4; round++) {
      const tokens = await Promise.all(tabs.flatMap((t) => [t.provider.getToken(), t.provider.getToken()]))
      expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set([`at-${round}`]))
      now += 300_000 // every tab's token is due: the next round refreshes, in whichever tab gets the lease
    }
    expect(endpoint.hits).toBe(4)
    expect(endpoint.invalidGrants).toBe(0)
    expect(Object.fromEntries(endpoint.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1, 'rt-2': 1, 'rt-3': 1 })
  })

  it('the lease holder closes mid-request: another tab takes over and every caller gets a token', async () => {
    let calls = 0
    // the first token request never answers (its tab is gone); later ones answer at once
    const endpoint = mockTokenEndpoint({
      gate: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve()),
    })
    const o = origin()
    const [holder, ...others] = o.tabs(4)
    void holder!.provider.getToken().catch(() => {})
    while (endpoint.hits === 0) await new Promise((r) => setTimeout(r, 1))
    const waiting = others.flatMap((t) => Array.from({ length: 10 }, () => t.provider.getToken()))
    holder!.close()
    const tokens = await Promise.all(waiting)
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['at-2']))
    expect(endpoint.hits).toBe(2)
  })

  it('rotating refresh tokens, the holder closes mid-request: no other tab redeems its refresh token again', async () => {
    let calls = 0
    // the holder's request reached the server, which may have rotated rt-0: its answer went with the tab
    const endpoint = mockTokenEndpoint({
      refreshTokens: new Set(['rt-0']),
      gate: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve()),
    })
    const o = origin({
      grant: { type: 'refresh_token', refreshToken: 'rt-0' },
      timeout: 200,
      retry: { attempts: 1, deadline: 100 },
    })
    const [holder, ...others] = o.tabs(3)
    void holder!.provider.getToken().catch(() => {})
    while (endpoint.hits === 0) await new Promise((r) => setTimeout(r, 1))
    holder!.close()
    const outcomes = await Promise.allSettled(others.map((t) => t.provider.getToken()))
    expect(endpoint.hits).toBe(1) // rt-0 sent once: by the holder (the hung request, not answered)
    // rt-0 may be spent and its successor is lost: each tab is told to sign in again, typed
    expect(
      outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : o.status)),
    ).toEqual(['ERR_AUTHORIZATION', 'ERR_AUTHORIZATION'])
  })

  it('a lease holder that hangs lets go after lockTtl: the others get a token with one more request', async () => {
    const endpoint = mockTokenEndpoint({ gate: () => new Promise(() => {}) })
    // the lease of the tab that takes over lapses after lockTtl too: on a loaded machine a short one
    // can run out before its own request is answered, and then another tab fetches (as designed)
    const o = origin({ lockTtl: 1_500, retry: false, timeout: 60_000 })
    const [holder, ...others] = o.tabs(3)
    void holder!.provider.getToken().catch(() => {})
    while (endpoint.hits === 0) await new Promise((r) => setTimeout(r, 1))
    const answering = mockTokenEndpoint() // from now on the server answers
    const tokens = await Promise.all(others.map((t) => t.provider.getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1)
    expect(endpoint.hits).toBe(1) // the hung request, counted by the first handler only
    expect(answering.hits).toBe(1) // the one more: the tab that took over, and no other tab
  })
})

describe("the tab that takes the lease next, before the last holder's message reaches it", () => {
  // every message arrives far past askTimeout (50 ms): what the last holder stored is known under
  // the lease only through its mark, and this tab waits for it instead of fetching
  it('gets the token the last holder stored: 1 token request', async () => {
    const endpoint = mockTokenEndpoint()
    const late = { by: 0 }
    const [first, second] = origin().tabs(2, { createChannel: slowChannel(late) })
    late.by = 300
    const token = await first!.provider.getToken()
    expect((await second!.provider.getToken()).accessToken).toBe(token.accessToken)
    expect(endpoint.hits).toBe(1)
  })

  it('rotating refresh tokens: it never redeems the refresh token the last holder redeemed', async () => {
    const refreshTokens = new Set(['rt-0'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    let now = 1_000_000
    const clock = () => now
    const late = { by: 0 }
    const o = origin({ grant: { type: 'refresh_token', refreshToken: 'rt-0' }, clock })
    const [first, second] = o.tabs(2, { clock, createChannel: slowChannel(late) })
    await first!.provider.getToken()
    expect((await second!.provider.getToken()).accessToken).toBe('at-1') // both tabs hold rt-1
    now += 300_000 // both tokens are due
    late.by = 300
    expect((await first!.provider.getToken()).accessToken).toBe('at-2') // rt-1 → rt-2
    expect((await second!.provider.getToken()).accessToken).toBe('at-2')
    expect(endpoint.invalidGrants).toBe(0)
    expect(Object.fromEntries(endpoint.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1 })
  })

  it('a last holder that hangs before its message is out is waited for at most half the lease', async () => {
    const endpoint = mockTokenEndpoint()
    const quiet = { by: 0, deaf: false }
    const late = { by: 0 }
    const o = origin({ lockTtl: 200 })
    const first = o.tab({ createChannel: slowChannel(quiet) })
    const second = o.tab({ createChannel: slowChannel(late) })
    quiet.deaf = true // it answers no one
    late.by = 60_000 // and its message never comes in time
    const token = await first.provider.getToken()
    const own = await second.provider.getToken()
    expect(own.accessToken).not.toBe(token.accessToken) // it fetched its own, once it stopped waiting
    expect(endpoint.hits).toBe(2)
  })

  it('rotating refresh tokens, a last holder that hangs: the refresh token it may have redeemed is not redeemed again', async () => {
    const refreshTokens = new Set(['rt-0'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    let now = 1_000_000
    const clock = () => now
    const quiet = { by: 0, deaf: false }
    const late = { by: 0 }
    const o = origin({
      grant: { type: 'refresh_token', refreshToken: 'rt-0' },
      clock,
      lockTtl: 100,
      timeout: 100,
      retry: { attempts: 1, deadline: 100 },
    })
    const first = o.tab({ clock, createChannel: slowChannel(quiet) })
    const second = o.tab({ clock, createChannel: slowChannel(late) })
    await first.provider.getToken()
    expect((await second.provider.getToken()).accessToken).toBe('at-1') // both tabs hold rt-1
    now += 300_000
    quiet.deaf = true
    late.by = 60_000
    expect((await first.provider.getToken()).accessToken).toBe('at-2') // rt-1 → rt-2
    // tabs are realms of their own: what the first tab's provider registered in this test's one
    // realm (families.ts) the second tab's would never hear of
    forgetRefreshFamilies()
    // it cannot know rt-2, and rt-1 may be spent: sign in again rather than redeem rt-1 twice
    await expect(second.provider.getToken()).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
    expect(endpoint.invalidGrants).toBe(0)
    expect(Object.fromEntries(endpoint.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1 })
  })
})

describe('a lease holder whose script is frozen (it never lets go)', () => {
  // timed on real timers (60 ms): a machine too loaded to keep them may need a second try
  it('after lockTtl without progress, exactly one waiting tab takes the lease over; the others wait for it', {
    retry: 2,
  }, async () => {
    const registry = createLockRegistry()
    const frozen = registry.tab()
    frozen.request('frozen:lease:k', {}, () => new Promise(() => {})).catch(() => {}) // stolen later
    const stores = [1, 2, 3, 4].map(() =>
      createBrowserTokenStore({ name: 'frozen', locks: registry.tab(), askTimeout: 10 }),
    )
    const ttl = 60
    // core's loop: try the lease, wait for the holder's token, try again
    const outcomes = await Promise.all(
      stores.map(async (store) => {
        expect(await store.acquireLease!('k', ttl)).toBeUndefined()
        expect(await store.waitForEntry!('k', ttl, () => true)).toBeUndefined() // no progress
        return store.acquireLease!('k', ttl)
      }),
    )
    const holders = outcomes.filter((release) => release !== undefined)
    expect(holders).toHaveLength(1)
    expect(registry.heldNames().filter((n) => n === 'frozen:lease:k')).toHaveLength(1)
    await holders[0]!()
    // once the new holder let go, the lease is free again for anyone
    const next = await stores[0]!.acquireLease!('k', ttl)
    expect(next).toBeDefined()
    await next!()
    for (const store of stores) store.close()
  })

  it('a holder that is slow but stores a token is never taken over: its progress resets the wait', async () => {
    const registry = createLockRegistry()
    const [holder, waiter] = [1, 2].map(() =>
      createBrowserTokenStore({ name: 'slow', locks: registry.tab(), askTimeout: 10 }),
    )
    const ttl = 60
    const release = await holder!.acquireLease!('k', 10_000)
    expect(await waiter!.acquireLease!('k', ttl)).toBeUndefined()
    const entry = {
      token: { accessToken: 'at-slow', tokenType: 'Bearer', raw: {} },
      obtainedAt: Date.now(),
      refreshAt: Date.now() + 60_000,
      fingerprint: 'f',
    }
    const waited = waiter!.waitForEntry!('k', 5_000, () => true)
    await holder!.set('k', entry, 60_000)
    expect((await waited)?.token.accessToken).toBe('at-slow')
    await new Promise((resolve) => setTimeout(resolve, ttl + 10))
    // the same holder still holds its (long) lease: a new wait starts, no takeover
    expect(await waiter!.acquireLease!('k', ttl)).toBeUndefined()
    await release!()
    holder!.close()
    waiter!.close()
  })
})

describe('a lease that changes hands as a waiting tab gives up waiting', () => {
  // the last holder's lease lapses at the very moment a waiter's wait for it ends (both lockTtl
  // after the start), and another tab takes it: the waiter has seen the lease held for lockTtl,
  // but by two tabs; taking it would make two tabs fetch (or redeem one refresh token twice)
  it('is not taken over from the tab that took it: the waiter waits again', async () => {
    const registry = createLockRegistry()
    const [first, next, waiter] = [1, 2, 3].map(() =>
      createBrowserTokenStore({ name: 'handover', locks: registry.tab(), askTimeout: 10 }),
    )
    const ttl = 60
    const lapsing = await first!.acquireLease!('k', ttl) // never released: it lapses after ttl
    expect(lapsing).toBeDefined()
    expect(await waiter!.acquireLease!('k', ttl)).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, ttl + 10)) // its wait ran out, unseen
    const taken = await next!.acquireLease!('k', 10_000)
    expect(taken).toBeDefined()
    expect(await waiter!.acquireLease!('k', ttl)).toBeUndefined()
    expect(registry.heldNames().filter((n) => n === 'handover:lease:k')).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, ttl + 10))
    // the same tab holding it for ttl more is a frozen holder again: taken over
    const over = await waiter!.acquireLease!('k', ttl)
    expect(over).toBeDefined()
    await over!()
    await taken!().catch(() => {})
    for (const store of [first, next, waiter]) store!.close()
  })
})

describe('without Web Locks or BroadcastChannel', () => {
  it('falls back to per-tab memory: each tab fetches its own token, and says it does not share', async () => {
    const endpoint = mockTokenEndpoint()
    const o = origin()
    const tabs = [o.tab({ locks: null }), o.tab({ createChannel: null })]
    expect(tabs.map((t) => t.store.shared)).toEqual([false, false])
    expect('acquireLease' in tabs[0]!.store).toBe(false)
    await Promise.all(tabs.flatMap((t) => [t.provider.getToken(), t.provider.getToken()]))
    expect(endpoint.hits).toBe(2)
  })
})
