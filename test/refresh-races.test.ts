import {
  createMemoryTokenStore,
  createTokenProvider,
  type TokenProvider,
  type TokenProviderOptions,
  type TokenStore,
} from '@tokenwell/core'
import { revocation } from '@tokenwell/core/revocation'
import { describe, expect, it } from 'vitest'
import { useServers } from './support/servers.js'

// Rule 4 tried with what a caller can start (revoke(), forceRefresh) and a shared store that
// fails part-way, counted at the real mock server: it rotates refresh tokens, and a spent one
// presented again counts as `refreshTokenReuse` (and revokes the family).
const servers = useServers()

async function firstRefreshToken(): Promise<string> {
  const response = await fetch(servers.auth.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa('demo-client:demo-secret')}` },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'alice-password' }),
  })
  return ((await response.json()) as { refresh_token: string }).refresh_token
}

function refreshing(refreshToken: string, options: Partial<TokenProviderOptions> = {}): TokenProvider {
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

describe('revoke() and the refresh token it leaves behind', () => {
  it('revoke(), then getToken(): the configured (long spent) refresh token is not redeemed again', async () => {
    const provider = refreshing(await firstRefreshToken(), {
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
    const provider = refreshing(await firstRefreshToken(), {
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
    const refreshToken = await firstRefreshToken()
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
    const refreshToken = await firstRefreshToken()
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
