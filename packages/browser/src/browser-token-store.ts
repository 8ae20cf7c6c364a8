import { ConfigError, type StoreEntry, type StoreLease, type TokenStore } from '@tokenwell/core'
import { type BrowserTokenStoreOptions, resolveOptions } from './options.js'
import { createTabChannel } from './tab-channel.js'
import { createTabLocks } from './tab-locks.js'
import type { TabSlot } from './tab-slot.js'
import { createTabState } from './tab-state.js'

/** A `TokenStore` shared by the tabs of one origin. */
export interface BrowserTokenStore extends TokenStore {
  /** Whether tabs coordinate (Web Locks and BroadcastChannel are there); `false` means per-tab memory. */
  readonly shared: boolean
  /**
   * With `session`: the newest refresh token of the sign-in, from this tab, another open tab or
   * IndexedDB (`persist`), or `undefined` (then sign in). For a tab that has no authorization code
   * to build its provider from. Throws `ConfigError` without `session`.
   */
  sessionRefreshToken(): Promise<string | undefined>
  /** Leaves the channel and lets go of this tab's locks; the store is per-tab memory after it. */
  close(): void
}

/**
 * A `TokenStore` for every tab of one origin, so an app open in many tabs makes one token request:
 * the tab that needs a token takes a Web Lock for its key (`navigator.locks`, `ifAvailable`), the
 * others wait on that lock and get the token, and the rotated refresh token with it, through a
 * `BroadcastChannel`; a tab opened later asks the open ones first. The lock is held for at most
 * the provider's `lockTtl`, and a tab that closes lets go of it at once. Nothing is written to disk
 * unless `persist` says where (`persistInIndexedDb()`: AES-GCM, a non-extractable key). Where Web Locks or
 * BroadcastChannel is missing, each tab keeps its own tokens in memory (`shared` is `false`).
 * Throws `ConfigError` for bad options.
 *
 * @example
 * const provider = createTokenProvider({
 *   tokenEndpoint: 'https://auth.example.com/oauth2/token',
 *   clientId: 'spa',
 *   clientAuth: 'none',
 *   grant: { type: 'refresh_token', refreshToken },
 *   store: createBrowserTokenStore(),
 * })
 */
export function createBrowserTokenStore(input: BrowserTokenStoreOptions = {}): BrowserTokenStore {
  const options = resolveOptions(input)
  const { clock, session } = options
  const state = createTabState(clock)
  const vault = options.persist
  const tabId = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16)).join('')
  const shared = options.locks !== undefined && options.createChannel !== undefined
  const locks = shared ? createTabLocks(options.locks!, options.name, tabId, clock) : undefined
  const channel = shared ? options.createChannel!(options.name) : undefined
  const tabs =
    channel && locks
      ? createTabChannel({ channel, state, tabId, peers: locks.peers, askTimeout: options.askTimeout })
      : undefined
  // a refresh token's family key (core's store-families.ts) keeps its own slot: its lease is taken
  // while the session's is held
  const slotKey = (key: string) =>
    session === undefined || key.startsWith('tokenwell:family:') ? key : `session:${session}`
  /** Keys this tab has asked the other tabs and the disk about; after that, it hears every change. */
  const caughtUp = new Set<string>()

  async function catchUp(k: string, again = false): Promise<void> {
    if (caughtUp.has(k) && !again) return
    caughtUp.add(k)
    await tabs?.sync(k)
    const stored = await vault?.load(k)
    if (stored) state.merge(k, stored)
  }
  /** Per key, the marks of other tabs this tab already waited for (answered or not): never waited for again. */
  const settled = new Map<string, Set<string>>()

  /**
   * Under the lease: what the tabs that stored last hold reaches this tab before it fetches. A
   * tab marks what it stored with a lock before it lets go of the lease, so this tab finds the
   * mark even when that tab's message is still on its way, and waits for it (at most `timeout`
   * ms: that tab may hang). Resolves whether this tab is still behind a mark.
   */
  async function handOver(k: string, timeout: number): Promise<boolean> {
    const marks = (await locks?.marks(k).catch(() => undefined)) ?? []
    const seen = settled.get(k) ?? new Set()
    settled.set(k, new Set(marks.flatMap(({ name }) => (seen.has(name) ? [name] : []))))
    const behind = marks.filter(({ name, stamp }) => stamp > state.newest(k) && !seen.has(name))
    if (behind.length === 0) return false
    const stamp = Math.max(...behind.map((mark) => mark.stamp))
    const enough = () => state.newest(k) >= stamp
    await tabs?.sync(k, { from: behind.map((mark) => mark.tab), timeout, enough })
    for (const { name } of behind) settled.get(k)?.add(name)
    return !enough()
  }
  const entryOf = (k: string) => state.read(k)?.entry
  const persist = async (k: string) => vault?.save(k, state.read(k))

  const store: BrowserTokenStore = {
    shared,
    async get(key) {
      const k = slotKey(key)
      if (!entryOf(k)) await catchUp(k)
      return entryOf(k)
    },
    async set(key, entry, ttl) {
      const k = slotKey(key)
      const now = clock()
      const refreshToken = entry.token.refreshToken
      const slot: TabSlot = {
        entry,
        until: now + ttl,
        ...(refreshToken !== undefined && {
          refresh: {
            value: refreshToken,
            at: entry.obtainedAt,
            until: now + Math.max(ttl, options.refreshTokenTtl),
          },
        }),
      }
      state.merge(k, slot)
      tabs?.publish(k, slot)
      // before core lets go of the lease: the next holder finds this mark, and waits for this slot
      await locks?.mark(k, state.newest(k)).catch(() => {})
      await persist(k)
    },
    async delete(key) {
      const k = slotKey(key)
      state.drop(k)
      tabs?.drop(k)
      await persist(k)
    },
    async compareAndDelete(key, fingerprint) {
      const k = slotKey(key)
      const dropped = state.drop(k, fingerprint)
      tabs?.drop(k, fingerprint)
      if (dropped) await persist(k)
      return dropped
    },
    async sessionRefreshToken() {
      if (session === undefined) throw new ConfigError('sessionRefreshToken() needs the session option')
      const k = slotKey('')
      if (!state.read(k)?.refresh) await catchUp(k, true)
      return state.read(k)?.refresh?.value
    },
    close() {
      channel?.close()
      locks?.close()
      vault?.close()
    },
  }
  if (locks && tabs) {
    Object.assign(store, {
      async acquireLease(key: string, ttl: number): Promise<StoreLease | undefined> {
        const k = slotKey(key)
        const release = await locks.tryLease(k, ttl)
        if (!release) return undefined
        // the tab that held it before may have stored a token a moment ago: its message may be on its way
        caughtUp.add(k)
        await tabs.sync(k)
        const behind = await handOver(k, Math.max(options.askTimeout, ttl / 2))
        const refreshToken = state.read(k)?.refresh?.value
        // a holder that closed or hung mid-request left its mark: that refresh token may be spent;
        // so may this tab's own when a tab that stored after it was issued did not answer (rule 4)
        const inDoubt =
          state.read(k)?.mark?.fp ??
          (behind && refreshToken !== undefined ? await sha256Hex(refreshToken) : undefined)
        return Object.assign(() => release(), {
          ...(inDoubt !== undefined && { inDoubt }),
          // told to every tab (and the disk) before the request goes: it survives this tab closing
          async redeeming(fingerprint: string | undefined) {
            const slot = {
              mark: { fp: fingerprint ?? null, at: Math.max(clock(), (state.read(k)?.mark?.at ?? 0) + 1) },
            }
            state.merge(k, slot)
            tabs.publish(k, slot)
            await persist(k)
            return true
          },
        })
      },
      waitForEntry(key: string, timeout: number, accept: (entry: StoreEntry) => boolean) {
        const k = slotKey(key)
        const now = entryOf(k)
        if (now && accept(now)) {
          locks.progressed(k)
          return Promise.resolve(now)
        }
        return new Promise<StoreEntry | undefined>((resolve) => {
          const stop = new AbortController()
          let settled = false
          const finish = (entry: StoreEntry | undefined, progressed = true) => {
            if (settled) return
            settled = true
            if (progressed) locks.progressed(k)
            clearTimeout(timer)
            off()
            stop.abort()
            resolve(entry)
          }
          const off = state.onEntry(k, (entry) => accept(entry) && finish(entry))
          const timer = setTimeout(() => finish(undefined, false), timeout)
          locks.whenFree(k, stop.signal).then(
            async () => {
              // the holder let go (done, failed or closed): what it stored may still be on its way
              await tabs.sync(k)
              const entry = entryOf(k)
              finish(entry && accept(entry) ? entry : undefined)
            },
            () => {},
          )
        })
      },
      async getRefreshToken(key: string) {
        const k = slotKey(key)
        if (!state.read(k)?.refresh) await catchUp(k)
        return state.read(k)?.refresh?.value
      },
    } satisfies Required<Pick<TokenStore, 'acquireLease' | 'waitForEntry' | 'getRefreshToken'>>)
  }
  // no toJSON or inspect hook needed: tokens live in closures, so printing the store shows none
  return Object.freeze(store)
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}
