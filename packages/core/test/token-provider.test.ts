import { server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { createTokenProvider, OAuthError, type TokenProviderOptions } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

/** A token endpoint that counts hits and answers t1, t2, … */
function countingEndpoint(body: (n: number, form: URLSearchParams) => Record<string, unknown> = () => ({})) {
  const state = { hits: 0, forms: [] as URLSearchParams[], headers: [] as Headers[] }
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const n = ++state.hits
      const form = new URLSearchParams(await request.text())
      state.forms.push(form)
      state.headers.push(request.headers)
      return HttpResponse.json({
        access_token: `t${n}`,
        token_type: 'Bearer',
        expires_in: 300,
        ...body(n, form),
      })
    }),
  )
  return state
}

function provider(options: Partial<TokenProviderOptions> = {}) {
  return createTokenProvider({
    tokenEndpoint,
    clientId: 'c',
    clientSecret: 's',
    refreshAhead: false,
    ...options,
  })
}

describe('caching and expiry', () => {
  it('reuses a cached token until it is within refreshSkew of expiry', async () => {
    const hits = countingEndpoint()
    let now = 0
    const p = provider({ clock: () => now })
    expect((await p.getToken()).accessToken).toBe('t1')
    now = 269_000 // 31 s left: still fresh
    expect((await p.getToken()).accessToken).toBe('t1')
    now = 271_000 // 29 s left: refresh
    expect((await p.getToken()).accessToken).toBe('t2')
    expect(hits.hits).toBe(2)
  })

  it('peekToken() answers synchronously with the token getToken() would return at once, and never fetches', async () => {
    const hits = countingEndpoint()
    let now = 0
    const p = provider({ clock: () => now })
    expect(p.peekToken()).toBeUndefined() // nothing cached yet
    expect(hits.hits).toBe(0)
    const t1 = await p.getToken()
    expect(p.peekToken()).toBe(t1)
    now = 271_000 // within refreshSkew: getToken() would fetch, so peekToken() has nothing
    expect(p.peekToken()).toBeUndefined()
    expect(hits.hits).toBe(1)
    const t2 = await p.getToken()
    expect(t2.accessToken).toBe('t2')
    expect(p.peekToken()).toBe(t2)
    await p.invalidate(t2) // an invalidated token is never handed out again
    expect(p.peekToken()).toBeUndefined()
    expect(hits.hits).toBe(2)
  })

  it('caps the skew at half the lifetime, so a 5 s token is reused for 2.5 s', async () => {
    const hits = countingEndpoint(() => ({ expires_in: 5 }))
    let now = 1_000
    const p = provider({ clock: () => now })
    await p.getToken()
    now = 3_400
    expect((await p.getToken()).accessToken).toBe('t1')
    now = 3_600
    expect((await p.getToken()).accessToken).toBe('t2')
    expect(hits.hits).toBe(2)
  })

  it('uses the JWT exp claim when expires_in is missing', async () => {
    const payload = btoa(JSON.stringify({ exp: 1_000 })).replace(/=+$/, '')
    const jwt = `eyJhbGciOiJub25lIn0.${payload}.sig`
    server.use(http.post(tokenEndpoint, () => HttpResponse.json({ access_token: jwt, token_type: 'Bearer' })))
    const p = provider({ clock: () => 0 })
    expect((await p.getToken()).expiresAt).toBe(1_000_000)
  })

  it('uses defaultLifetime when there is neither expires_in nor a JWT exp', async () => {
    server.use(
      http.post(tokenEndpoint, () => HttpResponse.json({ access_token: 'opaque', token_type: 'bearer' })),
    )
    const p = provider({ clock: () => 5, defaultLifetime: 60_000 })
    const token = await p.getToken()
    expect(token.expiresAt).toBe(60_005)
    expect(token.tokenType).toBe('Bearer')
  })

  it('forceRefresh skips the cache', async () => {
    const hits = countingEndpoint()
    const p = provider()
    await p.getToken()
    expect((await p.getToken({ forceRefresh: true })).accessToken).toBe('t2')
    expect(hits.hits).toBe(2)
  })
})

describe('single-flight', () => {
  it('1,000 concurrent getToken() calls on a cold provider make exactly one token request', async () => {
    const hits = { n: 0 }
    server.use(
      http.post(tokenEndpoint, async () => {
        hits.n++
        await delay(20)
        return HttpResponse.json({ access_token: 'shared', token_type: 'Bearer', expires_in: 300 })
      }),
    )
    const p = provider()
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => p.getToken()))
    expect(hits.n).toBe(1)
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['shared']))
  })

  it("a caller's signal aborts only its own wait, not the request others await", async () => {
    const hits = { n: 0 }
    server.use(
      http.post(tokenEndpoint, async () => {
        hits.n++
        await delay(50)
        return HttpResponse.json({ access_token: 'shared', token_type: 'Bearer', expires_in: 300 })
      }),
    )
    const p = provider()
    const controller = new AbortController()
    const aborted = p.getToken({ signal: controller.signal })
    const others = Promise.all([p.getToken(), p.getToken()])
    controller.abort(new Error('caller gave up'))
    await expect(aborted).rejects.toThrow('caller gave up')
    expect((await others).map((t) => t.accessToken)).toEqual(['shared', 'shared'])
    expect(hits.n).toBe(1)
  })

  it('rejects at once for an already aborted signal without a request', async () => {
    const hits = countingEndpoint()
    const p = provider()
    await expect(p.getToken({ signal: AbortSignal.abort() })).rejects.toThrow()
    expect(hits.hits).toBe(0)
  })
})

describe('compare-and-invalidate', () => {
  it('500 concurrent invalidate(stale) + getToken() make exactly one new token request', async () => {
    const hits = countingEndpoint()
    const p = provider()
    const stale = await p.getToken()
    const tokens = await Promise.all(
      Array.from({ length: 500 }, async () => {
        p.invalidate(stale)
        return p.getToken()
      }),
    )
    expect(hits.hits).toBe(2)
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['t2']))
  })

  it('asks a shared store to compare-and-delete a stale token once, however many 401s hand it in', async () => {
    countingEndpoint()
    const { createMemoryTokenStore } = await import('../src/index.js')
    const memory = createMemoryTokenStore()
    let calls = 0
    const store = {
      ...memory,
      compareAndDelete: (key: string, fingerprint: string) => {
        calls++
        return memory.compareAndDelete!(key, fingerprint)
      },
    }
    const p = provider({ store })
    const stale = await p.getToken()
    await Promise.all(Array.from({ length: 500 }, () => p.invalidate(stale)))
    expect(calls).toBe(1)
    expect((await p.getToken()).accessToken).toBe('t2')
  })

  it('does not drop a newer token when handed an older one', async () => {
    const hits = countingEndpoint()
    const p = provider()
    const old = await p.getToken()
    await p.invalidate(old)
    const fresh = await p.getToken()
    expect(await p.invalidate(old)).toBe(false)
    expect(await p.getToken()).toBe(fresh)
    expect(hits.hits).toBe(2)
  })
})

describe('grants', () => {
  it('sends client_credentials with scope (array joined by spaces), audience, resources and extra params', async () => {
    const hits = countingEndpoint()
    await provider({
      scope: ['orders:read', 'orders:write'],
      audience: 'https://api.example',
      resource: ['https://a.example/', 'https://b.example/'],
      extraParams: { tenant: 'acme' },
    }).getToken()
    const form = hits.forms[0]!
    expect(form.get('grant_type')).toBe('client_credentials')
    expect(form.get('scope')).toBe('orders:read orders:write')
    expect(form.get('audience')).toBe('https://api.example')
    expect(form.getAll('resource')).toEqual(['https://a.example/', 'https://b.example/'])
    expect(form.get('tenant')).toBe('acme')
    expect(form.get('client_secret')).toBeNull()
  })

  it('sends the password grant with username and password', async () => {
    const hits = countingEndpoint()
    await provider({ grant: { type: 'password', username: 'alice', password: 'pw' } }).getToken()
    expect(hits.forms[0]!.get('grant_type')).toBe('password')
    expect(hits.forms[0]!.get('username')).toBe('alice')
    expect(hits.forms[0]!.get('password')).toBe('pw')
  })

  it('refresh_token rotation: a new refresh token replaces the old one and is never reused', async () => {
    const used: string[] = []
    server.use(
      http.post(tokenEndpoint, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        const rt = form.get('refresh_token')!
        if (used.includes(rt)) return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
        used.push(rt)
        await delay(10)
        return HttpResponse.json({
          access_token: `a${used.length}`,
          token_type: 'Bearer',
          expires_in: 300,
          refresh_token: `r${used.length}`,
        })
      }),
    )
    let now = 0
    const p = provider({ grant: { type: 'refresh_token', refreshToken: 'r0' }, clock: () => now })
    const first = await Promise.all(Array.from({ length: 50 }, () => p.getToken()))
    expect(new Set(first.map((t) => t.accessToken))).toEqual(new Set(['a1']))
    now = 280_000
    const second = await Promise.all(Array.from({ length: 50 }, () => p.getToken()))
    expect(new Set(second.map((t) => t.accessToken))).toEqual(new Set(['a2']))
    await p.invalidate(second[0]!)
    expect((await p.getToken()).accessToken).toBe('a3')
    expect(used).toEqual(['r0', 'r1', 'r2'])
  })

  it('keeps the old refresh token when the server does not rotate it', async () => {
    const sent: string[] = []
    server.use(
      http.post(tokenEndpoint, async ({ request }) => {
        sent.push(new URLSearchParams(await request.text()).get('refresh_token')!)
        return HttpResponse.json({ access_token: `a${sent.length}`, token_type: 'Bearer', expires_in: 300 })
      }),
    )
    const p = provider({ grant: { type: 'refresh_token', refreshToken: 'keep-me' } })
    const token = await p.getToken()
    expect(token.refreshToken).toBe('keep-me')
    await p.getToken({ forceRefresh: true })
    expect(sent).toEqual(['keep-me', 'keep-me'])
  })

  it('falls back to the original grant when a refresh token it was given is refused', async () => {
    const grants: string[] = []
    server.use(
      http.post(tokenEndpoint, async ({ request }) => {
        const form = new URLSearchParams(await request.text())
        grants.push(form.get('grant_type')!)
        if (form.get('grant_type') === 'refresh_token')
          return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
        return HttpResponse.json({
          access_token: `a${grants.length}`,
          token_type: 'Bearer',
          expires_in: 300,
          refresh_token: 'r',
        })
      }),
    )
    const p = provider({ grant: { type: 'password', username: 'u', password: 'p' } })
    await p.getToken()
    expect((await p.getToken({ forceRefresh: true })).accessToken).toBe('a3')
    expect(grants).toEqual(['password', 'refresh_token', 'password'])
  })

  it('a refused refresh_token grant surfaces the OAuthError', async () => {
    server.use(
      http.post(tokenEndpoint, () =>
        HttpResponse.json({ error: 'invalid_grant', error_description: 'spent' }, { status: 400 }),
      ),
    )
    const error = await provider({ grant: { type: 'refresh_token', refreshToken: 'r' } })
      .getToken()
      .catch((e) => e)
    expect(error).toBeInstanceOf(OAuthError)
    expect(error).toMatchObject({
      code: 'ERR_OAUTH',
      error: 'invalid_grant',
      errorDescription: 'spent',
      status: 400,
    })
  })
})

describe('cache key', () => {
  it('providers that differ in scope, audience, resource, user or extra params never share a token', async () => {
    const hits = countingEndpoint()
    const { createMemoryTokenStore } = await import('../src/index.js')
    const store = createMemoryTokenStore()
    const variants: Partial<TokenProviderOptions>[] = [
      {},
      { scope: 'a' },
      { audience: 'x' },
      { resource: 'https://r.example/' },
      { extraParams: { tenant: 't' } },
      { grant: { type: 'password', username: 'alice', password: 'p' } },
      { grant: { type: 'password', username: 'bob', password: 'p' } },
      { clientId: 'other' },
    ]
    const tokens = await Promise.all(variants.map((v) => provider({ store, ...v }).getToken()))
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(variants.length)
    expect(hits.hits).toBe(variants.length)
    // same options, same shared store: one token
    await provider({ store, scope: 'a' }).getToken()
    expect(hits.hits).toBe(variants.length)
  })

  it('scope order does not change the key', async () => {
    const hits = countingEndpoint()
    const { createMemoryTokenStore } = await import('../src/index.js')
    const store = createMemoryTokenStore()
    await provider({ store, scope: ['a', 'b'] }).getToken()
    await provider({ store, scope: 'b a' }).getToken()
    expect(hits.hits).toBe(1)
  })
})

it('close() stops the refresh-ahead timer and the provider still answers', async () => {
  countingEndpoint()
  const p = provider({ refreshAhead: true })
  const token = await p.getToken()
  await p.close()
  expect(await p.getToken()).toBe(token)
})
