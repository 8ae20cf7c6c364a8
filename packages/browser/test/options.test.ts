import { inspect } from 'node:util'
import { createBrowserTokenStore, persistInIndexedDb } from '@tokenwell/browser'
import { ConfigError } from '@tokenwell/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createOrigin, mockTokenEndpoint } from './tabs.js'

const origins: ReturnType<typeof createOrigin>[] = []
afterEach(() => {
  for (const o of origins.splice(0)) o.closeAll()
})

describe('createBrowserTokenStore options', () => {
  it.each([
    [{ nmae: 'x' }, 'unknown option "nmae"'],
    [{ name: '' }, 'name must be a non-empty string'],
    [{ session: 3 }, 'session must be a non-empty string'],
    [{ persist: true }, 'persist must come from persistInIndexedDb()'],
    [{ askTimeout: -1 }, 'askTimeout must be a number of milliseconds ≥ 0'],
    [{ refreshTokenTtl: Number.NaN }, 'refreshTokenTtl must be a number of milliseconds ≥ 1'],
    [{ locks: {} }, 'locks must be a LockManager (navigator.locks)'],
  ])('%o → ConfigError: %s', (options, message) => {
    const attempt = () => createBrowserTokenStore(options as never)
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', message }))
  })

  it('persistInIndexedDb() where there is no IndexedDB is a ConfigError', () => {
    expect(() => persistInIndexedDb()).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG',
        message: 'persistInIndexedDb needs IndexedDB, and there is none here',
      }),
    )
  })

  it('sessionRefreshToken() without session is a ConfigError', async () => {
    await expect(createBrowserTokenStore({ locks: null }).sessionRefreshToken()).rejects.toMatchObject({
      code: 'ERR_CONFIG',
    })
  })

  it('prints no token: JSON.stringify and inspect show no token, however deep', async () => {
    mockTokenEndpoint()
    const tab = createOrigin().tab()
    origins.push({ closeAll: () => tab.close() } as never)
    const token = await tab.provider.getToken()
    const printed = `${JSON.stringify(tab.store)} ${inspect(tab.store, { depth: 5, showHidden: true })}`
    expect(printed).not.toContain(token.accessToken)
    expect(JSON.parse(JSON.stringify(tab.store))).toEqual({ shared: true })
  })
})

describe('a session shared by providers with different grants', () => {
  it('a later tab without the authorization code gets the sign-in from the open tab', async () => {
    const refreshTokens = new Set<string>()
    const endpoint = mockTokenEndpoint({ refreshTokens })
    const o = createOrigin()
    origins.push(o)
    const login = o.tab(
      { session: 'app' },
      { grant: { type: 'refresh_token', refreshToken: 'rt-login' } }, // as if exchanged from a code
    )
    refreshTokens.add('rt-login')
    const token = await login.provider.getToken()
    const laterStore = o.tab({ session: 'app' }).store
    const refreshToken = await laterStore.sessionRefreshToken()
    expect(refreshToken).toBe(token.refreshToken)
    const later = o.tab({ session: 'app' }, { grant: { type: 'refresh_token', refreshToken: refreshToken! } })
    expect((await later.provider.getToken()).accessToken).toBe(token.accessToken)
    expect(endpoint.hits).toBe(1)
  })
})

describe('hostile messages on the channel', () => {
  it('random messages from a same-origin script never throw, and never replace the stored token', async () => {
    const o = createOrigin()
    origins.push(o)
    const store = createBrowserTokenStore({ name: 'hostile', locks: o.locks.tab(), askTimeout: 10 })
    const entry = {
      token: { accessToken: 'at-kept', tokenType: 'Bearer', raw: {} },
      obtainedAt: Date.now(),
      refreshAt: Date.now() + 60_000,
      fingerprint: 'f',
    }
    await store.set('k', entry, 60_000)
    const rogue = new BroadcastChannel('hostile')
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('set', 'ask', 'state', 'x'), fc.anything(), async (t, slot) => {
        rogue.postMessage({ t, key: 'k', id: 'i', from: 'rogue', slot })
        rogue.postMessage(slot)
        await new Promise((resolve) => setTimeout(resolve, 0))
        expect((await store.get('k'))?.token.accessToken).toBe('at-kept')
      }),
      { numRuns: 100 },
    )
    rogue.close()
    store.close()
  })
})
