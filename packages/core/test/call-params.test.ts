import { server } from '@tokenwell/mock-server/msw'
import { delay, HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { ConfigError, createTokenProvider, type TokenProviderOptions } from '../src/index.js'

const tokenEndpoint = 'https://as.test/token'

/** A token endpoint that answers `<scope>#<n>` after a short delay, recording every form. */
function scopedEndpoint() {
  const state = { hits: 0, forms: [] as URLSearchParams[] }
  server.use(
    http.post(tokenEndpoint, async ({ request }) => {
      const n = ++state.hits
      const form = new URLSearchParams(await request.text())
      state.forms.push(form)
      await delay(20)
      const scope = form.get('scope') ?? 'none'
      return HttpResponse.json({
        access_token: `${scope.replace(/ /g, '+')}.${n}`,
        token_type: 'Bearer',
        expires_in: 300,
        refresh_token: `r${n}`,
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
    scope: 'base',
    ...options,
  })
}

describe('getToken({ scope, claims })', () => {
  it('100 concurrent callers per scope for two scopes: exactly 2 token requests, each caller gets its own scope', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const calls = ['a', 'b'].flatMap((scope) =>
      Array.from({ length: 100 }, () => p.getToken({ scope }).then((t) => [scope, t.accessToken] as const)),
    )
    const results = await Promise.all(calls)
    expect(endpoint.hits).toBe(2)
    for (const [scope, accessToken] of results)
      expect(accessToken).toBe(`${scope}.${accessToken.split('.')[1]}`)
    expect(new Set(results.map(([, t]) => t)).size).toBe(2)
    expect(endpoint.forms.map((f) => f.get('scope')).sort()).toEqual(['a', 'b'])
    // cached per scope, apart from the provider's own token
    expect((await p.getToken({ scope: ['a'] })).accessToken).toBe(results[0]![1])
    expect((await p.getToken()).accessToken).toBe('base.3')
    expect(p.peekToken()?.accessToken).toBe('base.3')
    expect(endpoint.hits).toBe(3)
  })

  it('keys by the set of scopes: order and duplicates do not matter; the configured scope is the default token', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const first = await p.getToken({ scope: 'b a' })
    expect((await p.getToken({ scope: ['a', 'b', 'a'] })).accessToken).toBe(first.accessToken)
    expect(endpoint.forms[0]?.get('scope')).toBe('a b')
    const base = await p.getToken({ scope: 'base' })
    expect(base.accessToken).toBe((await p.getToken()).accessToken)
    expect(endpoint.hits).toBe(2)
  })

  it('sends claims as the claims parameter, cached under its own key, and keeps no refresh token of such a call', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    const withClaims = await p.getToken({ claims })
    expect(endpoint.forms[0]?.get('claims')).toBe(claims)
    expect(endpoint.forms[0]?.get('scope')).toBe('base')
    expect(withClaims.refreshToken).toBeUndefined()
    expect((await p.getToken({ claims })).accessToken).toBe(withClaims.accessToken)
    const plain = await p.getToken()
    expect(plain.accessToken).not.toBe(withClaims.accessToken)
    expect(endpoint.forms[1]?.has('claims')).toBe(false)
    expect(endpoint.hits).toBe(2)
  })

  it('compare-and-invalidate per key: invalidating one scope’s token drops only that one', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const a = await p.getToken({ scope: 'a' })
    const base = await p.getToken()
    const stale = await Promise.all(Array.from({ length: 50 }, () => p.invalidate(a)))
    expect(stale.filter(Boolean)).toHaveLength(1)
    expect(p.peekToken()).toBe(base)
    const renewed = await Promise.all(Array.from({ length: 50 }, () => p.getToken({ scope: 'a' })))
    expect(new Set(renewed.map((t) => t.accessToken))).toEqual(new Set(['a.3']))
    expect(await p.invalidate(a)).toBe(false) // an older token no longer drops the new one
    expect((await p.getToken({ scope: 'a' })).accessToken).toBe('a.3')
    expect(endpoint.hits).toBe(3)
  })

  it('forceRefresh joins the request in flight for that key, and close() forgets every per-call token', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const [one, two] = await Promise.all([
      p.getToken({ scope: 'a' }),
      p.getToken({ scope: 'a', forceRefresh: true }),
    ])
    expect(one.accessToken).toBe(two.accessToken)
    expect(endpoint.hits).toBe(1)
    expect((await p.getToken({ scope: 'a', forceRefresh: true })).accessToken).toBe('a.2')
    await p.close()
    expect((await p.getToken({ scope: 'a' })).accessToken).toBe('a.3')
    expect(endpoint.hits).toBe(3)
  })

  it('keeps at most 16 per-call entries, the least recently used going first', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    await p.getToken({ scope: 's0' })
    for (let i = 1; i <= 16; i++) {
      await p.getToken({ scope: `s${i}` })
      await p.getToken({ scope: 's0' }) // kept fresh in the LRU
    }
    expect(endpoint.hits).toBe(17)
    await p.getToken({ scope: 's0' })
    await p.getToken({ scope: 's2' })
    expect(endpoint.hits).toBe(17)
    await p.getToken({ scope: 's1' }) // evicted: asked again
    expect(endpoint.hits).toBe(18)
  })

  it('a caller’s signal ends its own wait only', async () => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const controller = new AbortController()
    const aborted = p.getToken({ scope: 'a', signal: controller.signal })
    const other = p.getToken({ scope: 'a' })
    controller.abort()
    await expect(aborted).rejects.toThrow()
    expect((await other).accessToken).toBe('a.1')
    expect(endpoint.hits).toBe(1)
  })

  it.each([
    [{ scope: 'a "b"' }, 'scope entries'],
    [{ scope: [] }, 'at least one scope'],
    [{ scope: ['a b'] }, 'scope entries'],
    [{ scope: 7 }, 'scope must be'],
    [{ claims: 'not json' }, 'claims must be'],
    [{ claims: '[1]' }, 'claims must be'],
  ])('rejects bad per-call parameters %o with ConfigError, before any request', async (bad, message) => {
    const endpoint = scopedEndpoint()
    const p = provider()
    const error = await p.getToken(bad as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(message) })
    expect(endpoint.hits).toBe(0)
  })

  it('refuses per-call parameters for a grant that cannot be run again (its refresh token is redeemed once)', async () => {
    const endpoint = scopedEndpoint()
    const p = provider({ grant: { type: 'refresh_token', refreshToken: 'rt-secret' } })
    const error = await p.getToken({ scope: 'a' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining('refresh_token') })
    expect(String(error)).not.toContain('rt-secret')
    expect(endpoint.hits).toBe(0)
  })
})
