import { createBrowserTokenStore, persistInIndexedDb } from '@tokenwell/browser'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import { createOrigin, mockTokenEndpoint } from './tabs.js'

const origins: ReturnType<typeof createOrigin>[] = []
afterEach(() => {
  for (const o of origins.splice(0)) o.closeAll()
})

/** Every record of every object store of `db`, as the structured values IndexedDB holds. */
async function dump(factory: IDBFactory, name: string): Promise<unknown[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = factory.open(name)
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
  const values: unknown[] = []
  for (const storeName of Array.from(db.objectStoreNames)) {
    const all = db.transaction(storeName).objectStore(storeName).getAll()
    values.push(...(await new Promise<unknown[]>((resolve) => (all.onsuccess = () => resolve(all.result)))))
  }
  db.close()
  return values
}

const text = (values: unknown[]) =>
  values
    .map((v) => {
      const r = v as { data?: ArrayBuffer; iv?: Uint8Array }
      return r?.data ? new TextDecoder('latin1').decode(r.data) : JSON.stringify(v)
    })
    .join('\n')

describe('persist: IndexedDB, encrypted', () => {
  it('nothing is written anywhere by default', async () => {
    const indexedDB = new IDBFactory()
    mockTokenEndpoint()
    const o = createOrigin()
    origins.push(o)
    await o.tab().provider.getToken()
    persistInIndexedDb({ indexedDB, name: 'app' }) // made, never used: opens nothing either
    expect(await indexedDB.databases()).toEqual([])
  })

  it('a tab opened after every other one closed starts from disk, without a token request', async () => {
    const indexedDB = new IDBFactory()
    const refreshTokens = new Set(['rt-0'])
    const endpoint = mockTokenEndpoint({ refreshTokens })
    const o = createOrigin({ grant: { type: 'refresh_token', refreshToken: 'rt-0' } })
    origins.push(o)
    const first = o.tab({ persist: persistInIndexedDb({ indexedDB, name: 'app' }) })
    const token = await first.provider.getToken()
    first.close()

    const later = o.tab({ persist: persistInIndexedDb({ indexedDB, name: 'app' }) })
    expect((await later.provider.getToken()).accessToken).toBe(token.accessToken)
    expect(endpoint.hits).toBe(1)
    // after the access token is invalidated, the refresh token read from disk is the rotated one
    await later.provider.invalidate(token)
    expect((await later.provider.getToken()).accessToken).toBe('at-2')
    expect(Object.fromEntries(endpoint.redeemed)).toEqual({ 'rt-0': 1, 'rt-1': 1 })
  })

  it('the last tab closes mid-refresh: a tab opened later reads from disk that its refresh token may be spent', async () => {
    const indexedDB = new IDBFactory()
    let calls = 0
    // the second request (rt-1) reaches the server and never answers: its tab closes
    const endpoint = mockTokenEndpoint({
      refreshTokens: new Set(['rt-0']),
      gate: () => (++calls === 2 ? new Promise(() => {}) : Promise.resolve()),
    })
    const o = createOrigin({
      grant: { type: 'refresh_token', refreshToken: 'rt-0' },
      timeout: 200,
      retry: { attempts: 1, deadline: 100 },
    })
    origins.push(o)
    const first = o.tab({ persist: persistInIndexedDb({ indexedDB, name: 'app' }) })
    const token = await first.provider.getToken()
    await first.provider.invalidate(token)
    void first.provider.getToken().catch(() => {})
    while (endpoint.hits < 2) await new Promise((r) => setTimeout(r, 1))
    first.close()

    const later = o.tab({ persist: persistInIndexedDb({ indexedDB, name: 'app' }) })
    await expect(later.provider.getToken()).rejects.toMatchObject({ code: 'ERR_AUTHORIZATION' })
    expect(endpoint.hits).toBe(2) // rt-1 sent once, by the tab that closed
  })

  it('the disk holds neither token in clear, and the key cannot be exported', async () => {
    const indexedDB = new IDBFactory()
    mockTokenEndpoint({ refreshTokens: new Set(['rt-0']) })
    const o = createOrigin({ grant: { type: 'refresh_token', refreshToken: 'rt-0' } })
    origins.push(o)
    const tab = o.tab({ persist: persistInIndexedDb({ indexedDB, name: 'app' }) })
    const token = await tab.provider.getToken()
    const values = await dump(indexedDB, 'app')
    // the key, the token's slot, and the slot of its refresh token's family (core store-families.ts)
    expect(values.length).toBe(3)
    expect(text(values)).not.toContain(token.accessToken)
    expect(text(values)).not.toContain(token.refreshToken)
    const key = values.find((v) => v instanceof CryptoKey) as CryptoKey
    expect(key.extractable).toBe(false)
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow()
  })

  it('a tampered record is a cache miss reported as ERR_STORE, never a failed request', async () => {
    const indexedDB = new IDBFactory()
    const endpoint = mockTokenEndpoint()
    const store = createBrowserTokenStore({
      persist: persistInIndexedDb({ indexedDB, name: 'tamper' }),
      locks: null,
    })
    const entry = {
      token: { accessToken: 'at-x', tokenType: 'Bearer', raw: {} },
      obtainedAt: Date.now(),
      refreshAt: Date.now() + 60_000,
      fingerprint: 'f',
    }
    await store.set('k', entry, 60_000)
    const db = await new Promise<IDBDatabase>((resolve) => {
      const r = indexedDB.open('tamper')
      r.onsuccess = () => resolve(r.result)
    })
    const tx = db.transaction('slots', 'readwrite')
    tx.objectStore('slots').put({ iv: new Uint8Array(12), data: new ArrayBuffer(40) }, 'k')
    await new Promise((resolve) => (tx.oncomplete = resolve))
    db.close()
    const reader = createBrowserTokenStore({
      persist: persistInIndexedDb({ indexedDB, name: 'tamper' }),
      locks: null,
    })
    await expect(reader.get('k')).rejects.toMatchObject({ code: 'ERR_STORE', name: 'BrowserStoreError' })
    expect(endpoint.hits).toBe(0)
  })
})
