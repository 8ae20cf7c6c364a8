import { ConfigError } from '@tokenwell/core'
import type { BroadcastChannelLike } from './tab-channel.js'
import type { LockManagerLike } from './tab-locks.js'

export interface BrowserTokenStoreOptions {
  /** Names the BroadcastChannel, the locks and the IndexedDB database; stores with one name share. @default 'tokenwell' */
  name?: string | undefined
  /**
   * Keep tokens in IndexedDB, encrypted with a non-extractable AES-GCM key, so a tab opened after
   * every other tab closed (or a reload) starts without a token request. @default false (memory only)
   */
  persist?: boolean | undefined
  /**
   * One sign-in shared by every provider on this store, whatever its grant: each key maps to this
   * one slot. For a single-page app whose later tabs never saw the authorization code (see
   * `sessionRefreshToken()`). Use one such store per client and scope. @default undefined (one slot per key)
   */
  session?: string | undefined
  /** How long a tab waits for the other tabs to answer when it asks what they hold, ms. @default 150 */
  askTimeout?: number | undefined
  /** How long a refresh token is kept after its access token expired, ms. @default 2_592_000_000 (30 days) */
  refreshTokenTtl?: number | undefined
  /** The Web Locks API. `null` turns coordination off (per-tab memory). @default globalThis.navigator?.locks */
  locks?: LockManagerLike | null | undefined
  /** Opens a channel. `null` turns coordination off (per-tab memory). @default globalThis.BroadcastChannel */
  createChannel?: ((name: string) => BroadcastChannelLike) | null | undefined
  /** For `persist`. @default globalThis.indexedDB */
  indexedDB?: IDBFactory | undefined
  /** Epoch ms now; every tab must agree, as `Date.now()` does. @default Date.now */
  clock?: (() => number) | undefined
}

export interface ResolvedBrowserTokenStoreOptions {
  readonly name: string
  readonly persist: boolean
  readonly session: string | undefined
  readonly askTimeout: number
  readonly refreshTokenTtl: number
  readonly locks: LockManagerLike | undefined
  readonly createChannel: ((name: string) => BroadcastChannelLike) | undefined
  readonly indexedDB: IDBFactory | undefined
  readonly clock: () => number
}

const defaults = { name: 'tokenwell', askTimeout: 150, refreshTokenTtl: 2_592_000_000 }
const KNOWN_KEYS = new Set([
  'name',
  'persist',
  'session',
  'askTimeout',
  'refreshTokenTtl',
  'locks',
  'createChannel',
  'indexedDB',
  'clock',
])

/** Validates `input` and applies defaults; throws `ConfigError` naming the option. */
export function resolveOptions(input: BrowserTokenStoreOptions): ResolvedBrowserTokenStoreOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options must be an object')
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown option "${key.slice(0, 40)}"`)
  }
  const name = input.name ?? defaults.name
  if (typeof name !== 'string' || name === '') throw new ConfigError('name must be a non-empty string')
  const session = input.session
  if (session !== undefined && (typeof session !== 'string' || session === ''))
    throw new ConfigError('session must be a non-empty string')
  if (input.persist !== undefined && typeof input.persist !== 'boolean')
    throw new ConfigError('persist must be a boolean')
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike }
    BroadcastChannel?: typeof BroadcastChannel
  }
  const locks = input.locks === null ? undefined : (input.locks ?? g.navigator?.locks)
  if (locks !== undefined && typeof locks.request !== 'function')
    throw new ConfigError('locks must be a LockManager (navigator.locks)')
  const Channel = g.BroadcastChannel
  const createChannel =
    input.createChannel === null
      ? undefined
      : (input.createChannel ?? (Channel && ((channelName: string) => new Channel(channelName))))
  if (createChannel !== undefined && typeof createChannel !== 'function')
    throw new ConfigError('createChannel must be a function')
  const persist = input.persist ?? false
  const indexedDB = input.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
  if (persist && indexedDB === undefined)
    throw new ConfigError('persist needs IndexedDB, and there is none here')
  const clock = input.clock ?? (() => Date.now())
  if (typeof clock !== 'function') throw new ConfigError('clock must be a function')
  return Object.freeze({
    name,
    persist,
    session,
    askTimeout: duration('askTimeout', input.askTimeout ?? defaults.askTimeout, 0),
    refreshTokenTtl: duration('refreshTokenTtl', input.refreshTokenTtl ?? defaults.refreshTokenTtl, 1),
    locks,
    createChannel,
    indexedDB,
    clock,
  })
}

function duration(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number of milliseconds ≥ ${min}`)
  }
  return value
}
