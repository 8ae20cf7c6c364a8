import { describe, expect, it } from 'vitest'
import { createMemoryTokenStore, createTokenProvider, type TokenStore } from '../src/index.js'
import { forgetRefreshFamilies } from '../src/provider/families.js'

// Rule 4 across processes that share a store but not a cache key: two providers with one
// refresh token and different scopes. Every token request makes this process forget its
// registry of redemptions (families.ts), as if each provider ran in a process of its own: only
// the store's family keys stand between them and a second redemption. Counted at a fake server
// that rotates refresh tokens and revokes the family when a spent one comes back.
const tokenEndpoint = 'https://as.test/token'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function rotatingServer(latency = 5) {
  const redeemed = new Map<string, number>()
  const live = new Set(['rt-0'])
  const stats = { reuse: 0, invalidGrant: 0, issued: 0 }
  let next = 0
  const fetch = async (request: Request) => {
    forgetRefreshFamilies() // another process: nothing this one registered
    const form = new URLSearchParams(await request.text())
    const presented = form.get('refresh_token') ?? ''
    await sleep(latency) // the other provider's request overlaps this one
    redeemed.set(presented, (redeemed.get(presented) ?? 0) + 1)
    if (!live.has(presented)) {
      if (redeemed.get(presented)! > 1) stats.reuse++
      live.clear() // reuse detection: the whole family is revoked
      stats.invalidGrant++
      return Response.json({ error: 'invalid_grant' }, { status: 400 })
    }
    live.delete(presented)
    const rotated = `rt-${++next}`
    live.add(rotated)
    stats.issued++
    return Response.json({
      access_token: `at-${next}`,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: rotated,
      scope: form.get('scope') ?? '',
    })
  }
  return { fetch, redeemed, stats }
}

/** A memory store standing in for one other processes reach (Redis): spread, it is not marked as one process's. */
const sharedStore = (): TokenStore => ({ ...createMemoryTokenStore() })

function provider(
  scope: string,
  store: TokenStore,
  fetch: (request: Request) => Promise<Response>,
  timeout?: number,
) {
  return createTokenProvider({
    ...(timeout !== undefined && { timeout }),
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    grant: { type: 'refresh_token', refreshToken: 'rt-0' },
    scope,
    store,
    fetch,
    refreshAhead: false,
    failureCooldown: 0,
  })
}

describe('two processes sharing a store, one refresh token, different scopes', () => {
  it('concurrent forced refreshes: every refresh token redeemed once, 0 reuse, 0 invalid_grant, 0 failures', async () => {
    const server = rotatingServer()
    const store = sharedStore()
    const a = provider('orders:read', store, server.fetch)
    const b = provider('orders:write', store, server.fetch)
    const failures: unknown[] = []
    const call = (p: typeof a, forceRefresh: boolean) =>
      p.getToken({ forceRefresh }).catch((e) => failures.push(e))

    await Promise.all([call(a, false), call(b, false)])
    for (let round = 0; round < 5; round++) await Promise.all([call(a, true), call(b, true)])

    expect(failures).toEqual([])
    expect(server.stats).toEqual({ reuse: 0, invalidGrant: 0, issued: 12 })
    expect([...server.redeemed.values()].every((times) => times === 1)).toBe(true)
    expect(server.redeemed.size).toBe(12)
    await Promise.all([a.close(), b.close()])
  })

  it('one after the other: the second redeems what the first rotated to, not the token it was given', async () => {
    const server = rotatingServer()
    const store = sharedStore()
    const a = provider('orders:read', store, server.fetch)
    const b = provider('orders:write', store, server.fetch)

    expect((await a.getToken()).accessToken).toBe('at-1')
    forgetRefreshFamilies()
    expect((await b.getToken()).accessToken).toBe('at-2')
    forgetRefreshFamilies()
    // a holds rt-1, which b rotated to rt-2
    expect((await a.getToken({ forceRefresh: true })).accessToken).toBe('at-3')

    expect(server.stats).toEqual({ reuse: 0, invalidGrant: 0, issued: 3 })
    expect(Object.fromEntries(server.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1, 'rt-2': 1 })
    await Promise.all([a.close(), b.close()])
  })

  it('an answer that came after its redemption was given up on still tells the other process the successor', async () => {
    const server = rotatingServer(150)
    const store = sharedStore()
    const a = provider('orders:read', store, server.fetch, 50)
    const b = provider('orders:write', store, server.fetch)

    // a gives up after 50 ms; the server redeems rt-0 anyway, and its answer comes late
    await expect(a.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    await sleep(250)
    forgetRefreshFamilies()
    // b was given rt-0 too: the family entry names rt-1, which b redeems instead
    expect((await b.getToken()).accessToken).toBe('at-2')

    expect(server.stats).toEqual({ reuse: 0, invalidGrant: 0, issued: 2 })
    expect(Object.fromEntries(server.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1 })
    await Promise.all([a.close(), b.close()])
  })
  it('the other process asking while that answer is still on its way waits for it and redeems the successor: it is not told to log in again', async () => {
    const server = rotatingServer(300)
    const store = sharedStore()
    const a = provider('orders:read', store, server.fetch, 50)
    const b = provider('orders:write', store, server.fetch, 1_000)

    // a gives up after 50 ms; its request, redeeming rt-0, is answered at 300 ms
    await expect(a.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    forgetRefreshFamilies()
    // b, given rt-0 too, holds the family lease only once a's answer is in: then it redeems rt-1
    expect((await b.getToken()).accessToken).toBe('at-2')
    await sleep(350)
    expect((await b.getToken({ forceRefresh: true })).accessToken).toBe('at-3')

    expect(server.stats).toEqual({ reuse: 0, invalidGrant: 0, issued: 3 })
    expect(Object.fromEntries(server.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1, 'rt-2': 1 })
    await Promise.all([a.close(), b.close()])
  })
})

describe('a shared store that fails under the family lease, before anything is sent', () => {
  it.each(['get', 'acquireLease'] as const)(
    'its %s fails once: that call fails, the refresh token is not in doubt, and the next call redeems it',
    async (operation) => {
      const server = rotatingServer(0)
      const memory = sharedStore()
      let failed = 0
      const store: TokenStore = {
        ...memory,
        [operation]: (key: string, ...rest: unknown[]) => {
          if (key.startsWith('tokenwell:family:') && failed++ === 0)
            return Promise.reject(new Error('store down'))
          return (memory[operation] as (...args: unknown[]) => Promise<unknown>)(key, ...rest)
        },
      }
      const p = provider('orders:read', store, server.fetch)
      await expect(p.getToken()).rejects.toThrow(/shared store failed/)
      expect((await p.getToken()).accessToken).toBe('at-1')
      expect(server.stats).toEqual({ reuse: 0, invalidGrant: 0, issued: 1 })
      await p.close()
    },
  )
})

describe('a memory store (one process’s)', () => {
  it('gets no family entries however often the refresh token rotates: its providers are the in-process registry’s', async () => {
    const server = rotatingServer(0)
    const keys: string[] = []
    const memory = createMemoryTokenStore()
    // a Proxy keeps what marks the memory store as one process's
    const store = new Proxy(memory, {
      get: (target, name, receiver) =>
        name === 'set'
          ? (...args: Parameters<TokenStore['set']>) => {
              keys.push(args[0])
              return target.set(...args)
            }
          : Reflect.get(target, name, receiver),
    })
    const p = createTokenProvider({
      tokenEndpoint,
      clientId: 'c',
      clientSecret: 's',
      grant: { type: 'refresh_token', refreshToken: 'rt-0' },
      store,
      fetch: server.fetch,
      refreshAhead: false,
    })
    for (let i = 0; i < 5; i++) await p.getToken({ forceRefresh: true })
    expect(server.stats).toMatchObject({ issued: 5, reuse: 0, invalidGrant: 0 })
    expect(keys.filter((key) => key.startsWith('tokenwell:family:'))).toEqual([])
    expect(keys).toHaveLength(5)
    await p.close()
  })
})
