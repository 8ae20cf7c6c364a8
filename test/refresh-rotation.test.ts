import { inspect } from 'node:util'
import {
  createMemoryTokenStore,
  createTokenProvider,
  type StoreEntry,
  type TokenProvider,
  type TokenProviderOptions,
  type TokenStore,
} from '@tokenwell/core'
import { discovery } from '@tokenwell/core/discovery'
import { revocation } from '@tokenwell/core/revocation'
import { describe, expect, it } from 'vitest'
import { firstRefreshToken, useServers } from './support/servers.js'

// Rule 4 where the answer to a redemption (of a refresh token, or of an authorization code)
// goes missing on the way back, counted at the real mock server: it rotates refresh tokens, and
// a spent one or a code presented again revokes the family. A fetch in front of it lets the
// server do the work, then loses the answer. Then what a caller can start (revoke()) and a
// shared store that fails part-way or whose lease outlives a clock step.
const servers = useServers()

/** A fetch whose first request reaches the server and is processed; its answer becomes `lose(answer)`. */
function losesFirstAnswer(lose: (answer: Response) => Response | Promise<Response>) {
  let calls = 0
  return async (request: Request) => {
    const answer = await fetch(request)
    return ++calls === 1 ? lose(answer) : answer
  }
}

function refreshing(refreshToken: string, options: Partial<TokenProviderOptions>) {
  return createTokenProvider({
    tokenEndpoint: servers.auth.tokenEndpoint,
    clientId: 'demo-client',
    clientSecret: 'demo-secret',
    grant: { type: 'refresh_token', refreshToken },
    failureCooldown: 0,
    refreshAhead: false,
    ...options,
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const settled = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

describe('a refresh whose answer is lost after the server redeemed it', () => {
  it.each([
    ['a gateway 502 page', () => new Response('<h1>502 Bad Gateway</h1>', { status: 502 })],
    ['a gateway 504 page', () => new Response('<h1>504 Gateway Timeout</h1>', { status: 504 })],
    ['a proxy 500 page', () => new Response('<h1>Internal Server Error</h1>', { status: 500 })],
    [
      'a 200 cut short by a proxy',
      async (answer: Response) => new Response((await answer.text()).slice(0, 20), { status: 200 }),
    ],
    [
      'a 200 whose connection drops mid-body',
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"access_token":"'))
              controller.error(new TypeError('terminated'))
            },
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        ),
    ],
  ])('%s: the refresh token is never sent again', async (_, lose) => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    const provider = refreshing(refreshToken, { fetch: losesFirstAnswer(lose) })
    await expect(provider.getToken()).rejects.toBeDefined()
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
    await expect(provider.getToken({ forceRefresh: true })).rejects.toThrow(/log in again/)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 1, refreshTokenReuse: 0 })
  })
})

describe('a 200 to a refresh that is no usable token response but carries the rotated refresh token', () => {
  it.each([
    ['an access token with a space', { access_token: 'not a header' }],
    ['an unsupported token_type', { token_type: 'mac' }],
    ['no access token', { access_token: undefined }],
    ['an expires_in that is no number', { expires_in: 'soon' }],
  ])(
    '%s: that refresh fails, and the next one redeems the rotated refresh token (nothing is lost)',
    async (_, patch) => {
      const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
      servers.auth.stats.reset()
      // the refresh tokens sent, and the one the server rotated to in its first answer, which is patched
      const sent: (string | null)[] = []
      let rotated = ''
      const fetchPatched = async (request: Request) => {
        sent.push(new URLSearchParams(await request.clone().text()).get('refresh_token'))
        const answer = await fetch(request)
        if (sent.length > 1) return answer
        const body = (await answer.json()) as Record<string, unknown>
        rotated = String(body.refresh_token)
        return Response.json({ ...body, ...patch })
      }
      const provider = refreshing(refreshToken, { fetch: fetchPatched })
      const failed = await settled(provider.getToken())
      expect(failed).toMatchObject({ error: { code: 'ERR_TOKEN_RESPONSE' } })
      // the refresh token the unusable answer carried is held now: scrubbed from the error too
      expect(inspect(failed, { depth: Number.POSITIVE_INFINITY })).not.toContain(rotated)
      await provider.getToken()
      expect(sent).toEqual([refreshToken, rotated])
      expect(servers.auth.stats).toMatchObject({ tokenRequests: 2, tokensIssued: 2, refreshTokenReuse: 0 })
    },
  )
})

describe('an authorization code exchange whose answer is lost', () => {
  const redirectUri = 'http://127.0.0.1:1/callback'

  /** A code for alice, from the mock server's /authorize (it approves at once). */
  async function authorizationCode(): Promise<string> {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'demo-client',
      redirect_uri: redirectUri,
    })
    const approval = await fetch(`${servers.auth.issuer}/authorize?${query}`, { redirect: 'manual' })
    return new URL(approval.headers.get('location') ?? '').searchParams.get('code') ?? ''
  }

  function exchanging(code: string, options: Partial<TokenProviderOptions>) {
    return createTokenProvider({
      tokenEndpoint: servers.auth.tokenEndpoint,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      grant: { type: 'authorization_code', code, redirectUri },
      retry: { minDelay: 1, maxDelay: 1 },
      failureCooldown: 0,
      ...options,
    })
  }

  it('after the server exchanged it (connection reset): the code is not sent again', async () => {
    const code = await authorizationCode()
    servers.auth.stats.reset()
    const reset = () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      })
    }
    const provider = exchanging(code, { fetch: losesFirstAnswer(reset) })
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    await expect(provider.getToken()).rejects.toThrow(/log in again/)
    // a second exchange would be refused, and the mock server revokes what the first one issued
    expect(servers.auth.stats.byGrant).toMatchObject({ authorization_code: 1 })
    expect(servers.auth.stats.byError).not.toHaveProperty('invalid_grant')
  })

  it('answered after the caller stopped waiting: its tokens are adopted, the code is not sent again', async () => {
    const code = await authorizationCode()
    servers.auth.stats.reset()
    servers.auth.setLatency(300)
    const provider = exchanging(code, { timeout: 100 })
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST' })
    await new Promise((resolve) => setTimeout(resolve, 400))
    const token = await provider.getToken()
    expect(token.refreshToken).toEqual(expect.any(String))
    await provider.getToken({ forceRefresh: true })
    expect(servers.auth.stats.byGrant).toMatchObject({ authorization_code: 1, refresh_token: 1 })
    expect(servers.auth.stats).toMatchObject({ refreshTokenReuse: 0 })
    expect(servers.auth.stats.byError).not.toHaveProperty('invalid_grant')
  })
})

describe('a store that fails to write the rotated refresh token', () => {
  it('leaves the older entry in it: that entry is served, its spent refresh token is never redeemed', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    const memory = createMemoryTokenStore()
    let failures = 0
    const store = {
      ...memory,
      async set(key: string, entry: StoreEntry, ttl: number) {
        // the cache key's write fails (a refresh token's family key, store-families.ts, is written first)
        if (!key.startsWith('tokenwell:family:') && failures-- > 0) throw new Error('store unavailable')
        await memory.set(key, entry, ttl)
      },
    }
    const provider = refreshing(refreshToken, { store })
    const first = await provider.getToken()
    failures = 1
    const rotated = await provider.getToken({ forceRefresh: true })
    // a 401 for the new token: the store still holds the first entry, whose access token is fresh
    await provider.invalidate(rotated)
    expect((await provider.getToken()).accessToken).toBe(first.accessToken)
    const next = await provider.getToken({ forceRefresh: true })
    expect(next.refreshToken).not.toBe(rotated.refreshToken)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 3, tokensIssued: 3, refreshTokenReuse: 0 })
  })
})

describe('a shared store that fails to write what a refresh token was rotated to (its family entry)', () => {
  it('another provider of the process, given that refresh token, redeems its successor: it is not told to log in again', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    // spread, the memory store stands for one other processes reach (Redis): it gets family keys
    const memory = { ...createMemoryTokenStore() }
    let failures = 1
    const store: TokenStore = {
      ...memory,
      async set(key, entry, ttl) {
        if (key.startsWith('tokenwell:family:') && failures-- > 0) throw new Error('store unavailable')
        await memory.set(key, entry, ttl)
      },
    }
    const a = refreshing(refreshToken, { store, scope: 'orders:read' })
    const b = refreshing(refreshToken, { store, scope: 'orders:write' })
    const first = await a.getToken()
    // the mark on the family key stays (other processes never send it); this process knows the successor
    const results = [await settled(b.getToken()), await settled(b.getToken({ forceRefresh: true }))]
    expect(results).toMatchObject([
      { value: { refreshToken: expect.any(String) } },
      { value: { refreshToken: expect.any(String) } },
    ])
    expect((await a.getToken({ forceRefresh: true })).refreshToken).not.toBe(first.refreshToken)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 4, tokensIssued: 4, refreshTokenReuse: 0 })
    expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    await Promise.all([a.close(), b.close()])
  })
})

describe('two providers with the same options sharing one in-memory store', () => {
  it('redeem each refresh token once: one fetches while the other waits, and the newest refresh token outlives its entry', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    let now = Date.now()
    const clock = () => now
    const store = createMemoryTokenStore({ clock })
    const [a, b] = [0, 1].map(() => refreshing(refreshToken, { store, clock })) as [
      TokenProvider,
      TokenProvider,
    ]
    // cold: both ask at once
    const [first, shared] = await Promise.all([a.getToken(), b.getToken()])
    expect(shared.accessToken).toBe(first.accessToken)
    // both due at once
    now += 280_000
    const [second, again] = await Promise.all([a.getToken(), b.getToken()])
    expect(again.accessToken).toBe(second.accessToken)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 2, refreshTokenReuse: 0 })
    // a rotates on alone, then a 401 for its token empties the store; b still holds the older one
    const third = await a.getToken({ forceRefresh: true })
    await a.invalidate(third)
    await b.invalidate(second)
    await b.getToken()
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 4, tokensIssued: 4, refreshTokenReuse: 0 })
  })
})

describe('two providers given one refresh token, each with its own store (one sign-in, two scopes; or the same options twice)', () => {
  it.each([
    ['two scopes', 'orders:read', 'orders:write'],
    ['the same options', 'orders:read', 'orders:read'],
  ])(
    '%s: neither presents a refresh token the other spent, cold or refreshing in turn',
    async (_, first, second) => {
      const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
      servers.auth.stats.reset()
      const a = refreshing(refreshToken, { scope: first })
      const b = refreshing(refreshToken, { scope: second })
      // cold, at once: b waits for a's redemption and redeems the refresh token it rotated to
      const [ta, tb] = await Promise.all([a.getToken(), b.getToken()])
      expect(tb.accessToken).not.toBe(ta.accessToken)
      // in turn, each from the newest of the family, whichever provider rotated it last
      for (const [provider, token] of [
        [a, ta],
        [b, tb],
        [a, undefined],
        [b, undefined],
      ] as const) {
        const current = token ?? (await provider.getToken())
        await provider.invalidate(current)
        await provider.getToken()
      }
      expect(servers.auth.stats).toMatchObject({ tokenRequests: 6, tokensIssued: 6, refreshTokenReuse: 0 })
      expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
      await Promise.all([a.close(), b.close()])
    },
  )
})

describe('two providers given one refresh token, the first giving up on a slow refresh whose answer is still to come', () => {
  it('the second, asking meanwhile, waits for that answer and redeems its successor, then and later: it is not told to log in again', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    servers.auth.setLatency(300)
    // a's caller stops waiting after 100 ms; its request is awaited up to the 500 ms retry deadline
    const late = { timeout: 100, retry: { attempts: 1, deadline: 500 } }
    const a = refreshing(refreshToken, { scope: 'orders:read', ...late })
    const b = refreshing(refreshToken, { scope: 'orders:write', timeout: 2_000 })
    expect(await settled(a.getToken())).toMatchObject({ error: { code: 'ERR_TOKEN_REQUEST' } })
    // a's request is still on its way: b, given the same refresh token, asks now and again later
    const first = await settled(b.getToken())
    await sleep(400)
    const later = await settled(b.getToken({ forceRefresh: true }))
    expect([first, later]).toMatchObject([
      { value: { refreshToken: expect.any(String) } },
      { value: { refreshToken: expect.any(String) } },
    ])
    expect(servers.auth.stats.byGrant).toMatchObject({ refresh_token: 3 })
    expect(servers.auth.stats).toMatchObject({ refreshTokenReuse: 0 })
    expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    await Promise.all([a.close(), b.close()])
  })
})

describe('two providers that discover the token endpoint (issuer), given one refresh token', () => {
  it('a late answer to the first, after discovery, names the successor the second redeems: the spent one is never sent again', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    servers.auth.setLatency(300)
    // a's caller stops waiting after 100 ms; its request is awaited up to the 500 ms retry deadline
    const options = {
      issuer: servers.auth.issuer,
      discovery,
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      grant: { type: 'refresh_token', refreshToken },
      failureCooldown: 0,
      refreshAhead: false,
      timeout: 100,
      retry: { attempts: 1, deadline: 500 },
    } as const
    const a = createTokenProvider(options)
    expect(await settled(a.getToken())).toMatchObject({ error: { code: 'ERR_TOKEN_REQUEST' } })
    await sleep(500) // the server has answered a's request, with the rotated refresh token
    servers.auth.setLatency(0)
    const b = createTokenProvider({ ...options, timeout: 10_000 })
    const token = await b.getToken()
    expect(token.refreshToken).toEqual(expect.any(String))
    expect(servers.auth.stats.byGrant).toMatchObject({ refresh_token: 2 })
    expect(servers.auth.stats).toMatchObject({ refreshTokenReuse: 0 })
    expect(servers.auth.stats.byError['invalid_grant'] ?? 0).toBe(0)
    await Promise.all([a.close(), b.close()])
  })
})

describe('two providers sharing one in-memory store, the first giving up on a slow refresh', () => {
  // a gives up on its refresh (answerTimeout: 100 ms) while the server, 300 ms slow, still redeems it
  const slow = { timeout: 100, retry: { attempts: 1, deadline: 0 } }

  it('the other provider takes the lease over and does not redeem that refresh token again: it fails with ERR_AUTHORIZATION', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    servers.auth.setLatency(300)
    const store = createMemoryTokenStore()
    const a = refreshing(refreshToken, { store, ...slow })
    const b = refreshing(refreshToken, { store, ...slow })
    const first = settled(a.getToken())
    await sleep(20) // a holds the lease: b waits for it
    const second = settled(b.getToken())
    const results = [await first, await second]
    await sleep(400) // the server has answered every request it received
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 1, refreshTokenReuse: 0 })
    expect(servers.auth.stats.byGrant).toMatchObject({ refresh_token: 1 })
    // the refresh token may be spent: it is not sent again (rule 4), a new login is needed
    expect(results).toMatchObject([
      { error: { code: 'ERR_TOKEN_REQUEST' } },
      { error: { code: 'ERR_AUTHORIZATION' } },
    ])
    await a.close()
    await b.close()
  })

  it('answered while the first still awaits it: the other provider gets that token, and its rotated refresh token is the one redeemed next', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    servers.auth.setLatency(300)
    const store = createMemoryTokenStore()
    // a's caller stops waiting after 100 ms; its request is awaited up to the 500 ms retry deadline
    const late = { timeout: 100, retry: { attempts: 1, deadline: 500 } }
    const a = refreshing(refreshToken, { store, ...late })
    const b = refreshing(refreshToken, { store, ...late })
    const first = settled(a.getToken())
    await sleep(20)
    const second = b.getToken()
    expect(await first).toMatchObject({ error: { code: 'ERR_TOKEN_REQUEST' } })
    const rotated = await second
    expect(rotated.refreshToken).toEqual(expect.any(String))
    expect(rotated.refreshToken).not.toBe(refreshToken)
    expect((await a.getToken()).accessToken).toBe(rotated.accessToken)
    servers.auth.setLatency(0)
    // a 401 for it: b redeems the rotated refresh token, once a has let go of the lease
    await b.invalidate(rotated)
    const next = await b.getToken()
    expect(next.refreshToken).not.toBe(rotated.refreshToken)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 2, tokensIssued: 2, refreshTokenReuse: 0 })
    await a.close()
    await b.close()
  })
})

describe('a wall clock stepped forward while a provider redeems under the in-memory store lease', () => {
  it('does not end the lease: the other provider waits for the rotated token instead of redeeming the same refresh token', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    servers.auth.stats.reset()
    let now = Date.now()
    const clock = () => now
    const store = createMemoryTokenStore({ clock })
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    // a holds the lease and its token request waits at the gate, not yet at the server
    const a = refreshing(refreshToken, {
      store,
      clock,
      fetch: async (request: Request) => {
        await gate
        return fetch(request)
      },
    })
    const b = refreshing(refreshToken, { store, clock })
    const first = a.getToken()
    await new Promise((resolve) => setTimeout(resolve, 50))
    now += 60_000 // an NTP step: four times the 15 s lease, while a is still redeeming
    const second = b.getToken()
    setTimeout(open, 100)
    const [mine, theirs] = await Promise.all([first, second])
    expect(theirs.accessToken).toBe(mine.accessToken)
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 1, refreshTokenReuse: 0 })
  })
})

describe('revoke() and the refresh token it leaves behind', () => {
  it('revoke(), then getToken(): the configured (long spent) refresh token is not redeemed again', async () => {
    const provider = refreshing(await firstRefreshToken(servers.auth.tokenEndpoint), {
      revocation,
      revocationEndpoint: servers.auth.revocationEndpoint,
    })
    await provider.getToken() // redeems the configured refresh token: the server rotates it
    servers.auth.stats.reset()
    expect(await provider.revoke()).toMatchObject({ refreshToken: true })
    await settled(provider.getToken())
    // nothing is left to redeem: a new login is needed, no token request
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 0, refreshTokenReuse: 0 })
    await provider.close()
  })

  it('revoke() while a refresh is in flight, then getToken(): no spent refresh token redeemed', async () => {
    const provider = refreshing(await firstRefreshToken(servers.auth.tokenEndpoint), {
      revocation,
      revocationEndpoint: servers.auth.revocationEndpoint,
    })
    await provider.getToken()
    servers.auth.stats.reset()
    servers.auth.setLatency(200)
    const refresh = settled(provider.getToken({ forceRefresh: true }))
    await sleep(50)
    servers.auth.setLatency(0)
    await settled(provider.revoke())
    await refresh
    await settled(provider.getToken({ forceRefresh: true }))
    expect(servers.auth.stats.refreshTokenReuse).toBe(0)
    await provider.close()
  })
})

describe('two providers sharing a store that fails part-way', () => {
  it('a store whose lease fails (store down): the two never both redeem one refresh token', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    const memory = createMemoryTokenStore()
    const store: TokenStore = {
      ...memory,
      acquireLease: async () => {
        throw new Error('store unavailable')
      },
    }
    const a = refreshing(refreshToken, { store })
    const b = refreshing(refreshToken, { store })
    servers.auth.stats.reset()
    servers.auth.setLatency(50)
    const results = await Promise.all([settled(a.getToken()), settled(b.getToken())])
    expect(servers.auth.stats).toMatchObject({ tokenRequests: 0, refreshTokenReuse: 0 })
    // without the store's word that no other process redeems it, the refresh token waits for the store
    for (const result of results)
      expect(result).toMatchObject({
        error: {
          code: 'ERR_TOKEN_REQUEST',
          message: expect.stringMatching(/shared store failed \(acquireLease\)/),
        },
      })
    await a.close()
    await b.close()
  })

  it('a store whose getRefreshToken() fails after the other provider rotated: the spent copy is not redeemed', async () => {
    const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
    const memory = createMemoryTokenStore()
    let fail = false
    const store: TokenStore = {
      ...memory,
      getRefreshToken: async (key) => {
        if (fail) throw new Error('store unavailable')
        return memory.getRefreshToken!(key)
      },
    }
    const a = refreshing(refreshToken, { store })
    const b = refreshing(refreshToken, { store })
    servers.auth.stats.reset()
    await a.getToken() // redeems the configured one
    await b.getToken() // the same token, from the store, with its refresh token
    await a.getToken({ forceRefresh: true }) // a rotates; the store holds the newest
    fail = true
    await settled(b.getToken({ forceRefresh: true }))
    expect(servers.auth.stats).toMatchObject({ refreshTokenReuse: 0 })
    await a.close()
    await b.close()
  })
})

describe('a refresh token the server refuses with invalid_grant (spent by another copy of it)', () => {
  it.each([
    ['answered at once', {}],
    [
      'answered after its caller stopped waiting',
      {
        timeout: 100,
        fetch: async (request: Request) => {
          const answer = await fetch(request)
          await sleep(300)
          return answer
        },
      },
    ],
  ])(
    '%s: it is never sent again, every later call asks for a new login without a request',
    async (_, options) => {
      const refreshToken = await firstRefreshToken(servers.auth.tokenEndpoint)
      // another copy of it was redeemed first: the mock server counts each later use as reuse
      await fetch(servers.auth.tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${btoa('demo-client:demo-secret')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      })
      servers.auth.stats.reset()
      const provider = refreshing(refreshToken, options)
      await expect(provider.getToken()).rejects.toBeDefined()
      await sleep(400)
      for (const forceRefresh of [false, true, false]) {
        await expect(provider.getToken({ forceRefresh })).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
      }
      expect(servers.auth.stats).toMatchObject({ tokenRequests: 1, refreshTokenReuse: 1 })
    },
  )
})
