import { ConfigError } from '@tokenwell/core'
import { BrowserStoreError } from './browser-store-error.js'
import { parseSlot, type TabSlot } from './tab-slot.js'

/**
 * Where a browser store keeps tokens across reloads, from `persistInIndexedDb()`. Its methods
 * are the store's business: pass it as `persist` and nothing else.
 */
export interface TokenVault {
  load(key: string): Promise<TabSlot | undefined>
  /** Writes `slot`, or removes the record when it holds nothing. */
  save(key: string, slot: TabSlot | undefined): Promise<void>
  close(): void
}

export interface PersistInIndexedDbOptions {
  /** The database name; stores that share it share what is kept. @default 'tokenwell' */
  name?: string | undefined
  /** @default globalThis.indexedDB */
  indexedDB?: IDBFactory | undefined
}

const IV_BYTES = 12 // NIST SP 800-38D §8.2: 96-bit random IVs
const KEY_ID = 'aes-gcm'

/**
 * Keeps a browser store's tokens in the IndexedDB database `name`, so a reload, or a tab opened
 * after every other one closed, starts without a token request. Each record is AES-256-GCM
 * encrypted, bound to its key as additional data, under a key made here with `extractable: false`
 * and kept in IndexedDB as a `CryptoKey` (structured clone keeps it non-extractable: no script,
 * ours included, can read its bytes). That keeps tokens off the disk in clear; it does not hide
 * them from script running on this origin. Costs nothing in a bundle that does not call it.
 * Throws `ConfigError` when there is no IndexedDB.
 *
 * @example
 * const store = createBrowserTokenStore({ persist: persistInIndexedDb() })
 */
export function persistInIndexedDb(options: PersistInIndexedDbOptions = {}): TokenVault {
  const name = options.name ?? 'tokenwell'
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
  if (!factory) throw new ConfigError('persistInIndexedDb needs IndexedDB, and there is none here')
  if (typeof name !== 'string' || name === '') throw new ConfigError('name must be a non-empty string')
  let opened: Promise<IDBDatabase> | undefined
  let keyPromise: Promise<CryptoKey> | undefined
  const db = () =>
    (opened ??= new Promise((resolve, reject) => {
      const request = factory.open(name, 1)
      request.onupgradeneeded = () => {
        request.result.createObjectStore('keys')
        request.result.createObjectStore('slots')
      }
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(fail('IndexedDB could not be opened', request.error))
    }))
  const cryptoKey = () =>
    (keyPromise ??= (async () => {
      const existing = await run<CryptoKey | undefined>(await db(), 'keys', 'readonly', (s) => s.get(KEY_ID))
      if (existing) return existing
      const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ])
      // two tabs may make one at once: the first one written wins, both use it
      return run<CryptoKey>(await db(), 'keys', 'readwrite', (s, done) => {
        const read = s.get(KEY_ID)
        read.onsuccess = () => {
          if (read.result) return done(read.result as CryptoKey)
          s.put(fresh, KEY_ID).onsuccess = () => done(fresh)
        }
        return undefined
      })
    })().catch((error) => {
      keyPromise = undefined
      throw error
    }))
  const aad = (key: string) => new TextEncoder().encode(`${name}:${key}`)

  return {
    async load(key) {
      const record = await run<{ iv?: unknown; data?: unknown } | undefined>(
        await db(),
        'slots',
        'readonly',
        (s) => s.get(key),
      )
      if (record === undefined) return undefined
      if (!(record.iv instanceof Uint8Array) || !(record.data instanceof ArrayBuffer))
        throw new BrowserStoreError('stored value is malformed')
      const iv = record.iv as Uint8Array<ArrayBuffer>
      let plain: ArrayBuffer
      try {
        plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: aad(key) },
          await cryptoKey(),
          record.data,
        )
      } catch (error) {
        throw fail('stored value could not be decrypted', error)
      }
      const slot = parseSlot(JSON.parse(new TextDecoder().decode(plain)))
      if (!slot) throw new BrowserStoreError('stored value is malformed')
      return slot
    },
    async save(key, slot) {
      if (!slot || (!slot.entry && !slot.refresh)) {
        await run(await db(), 'slots', 'readwrite', (s) => s.delete(key))
        return
      }
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const data = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad(key) },
        await cryptoKey(),
        new TextEncoder().encode(JSON.stringify(slot)),
      )
      await run(await db(), 'slots', 'readwrite', (s) => s.put({ iv, data }, key))
    },
    close() {
      opened?.then((d) => d.close()).catch(() => {})
    },
  }
}

/**
 * One transaction on `storeName`. `body` returns a request whose result is the answer, or calls
 * `done` itself; either way the answer is given once the transaction has committed.
 */
function run<T>(
  db: IDBDatabase,
  storeName: string,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore, done: (value: T) => void) => IDBRequest | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode)
    let value: T
    const request = body(tx.objectStore(storeName), (v) => {
      value = v
    })
    if (request)
      request.onsuccess = () => {
        value = request.result as T
      }
    tx.oncomplete = () => resolve(value)
    tx.onerror = () => reject(fail('IndexedDB failed', tx.error))
    tx.onabort = () => reject(fail('IndexedDB transaction aborted', tx.error))
  })
}

function fail(message: string, cause: unknown): BrowserStoreError {
  const source = cause instanceof Error ? cause : undefined
  const copy = source && Object.assign(new Error(source.message.slice(0, 200)), { name: source.name })
  return new BrowserStoreError(message, copy ? { cause: copy } : {})
}
