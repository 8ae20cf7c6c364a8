import { ConfigError } from '@tokenwell/core'
import type { TokenVault } from './idb-vault.js'
import type { BroadcastChannelLike } from './tab-channel.js'
import type { LockManagerLike } from './tab-locks.js'

export interface BrowserTokenStoreOptions {
  /** Names the BroadcastChannel and the locks; stores with one name share. @default 'tokenwell' */
  name?: string | undefined
  /**
   * Where to keep tokens across reloads: `persistInIndexedDb()` (encrypted, non-extractable key).
   * @default undefined (memory only: nothing is written to disk)
   */
  persist?: TokenVault | undefined
  /**
   * One sign-in shared by every provider on this store, whatever its grant: each key maps to this
   * one slot. For a single-page app whose later tabs never saw the authorization code (see
   * `sessionRefreshToken()`). Use one such store per client and scope. @default undefined (one slot per key)
   */
  session?: string | undefined
  /** How long a tab waits for another tab that does not answer (one that hangs), ms. @default 150 */
  askTimeout?: number | undefined
  /** How long a refresh token is kept after its access token expired, ms. @default 2_592_000_000 (30 days) */
  refreshTokenTtl?: number | undefined
  /** The Web Locks API. `null` turns coordination off (per-tab memory). @default globalThis.navigator?.locks */
  locks?: LockManagerLike | null | undefined
  /** Opens a channel. `null` turns coordination off (per-tab memory). @default globalThis.BroadcastChannel */
  createChannel?: ((name: string) => BroadcastChannelLike) | null | undefined
  /** Epoch ms now; every tab must agree, as `Date.now()` does. @default Date.now */
  clock?: (() => number) | undefined
}

export interface ResolvedBrowserTokenStoreOptions {
  readonly name: string
  readonly persist: TokenVault | undefined
  readonly session: string | undefined
  readonly askTimeout: number
  readonly refreshTokenTtl: number
  readonly locks: LockManagerLike | undefined
  readonly createChannel: ((name: string) => BroadcastChannelLike) | undefined
  readonly clock: () => number
}

const KNOWN_KEYS = [
  'name',
  'persist',
  'session',
  'askTimeout',
  'refreshTokenTtl',
  'locks',
  'createChannel',
  'clock',
]

/** Validates `input` and applies defaults; throws `ConfigError` naming the option. */
export function resolveOptions(input: BrowserTokenStoreOptions): ResolvedBrowserTokenStoreOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options must be an object')
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.includes(key)) throw new ConfigError(`unknown option "${key.slice(0, 40)}"`)
  }
  const { name = 'tokenwell', session, persist, clock = () => Date.now() } = input
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ConfigError(message)
  }
  check(typeof name === 'string' && name !== '', 'name must be a non-empty string')
  check(
    session === undefined || (typeof session === 'string' && session !== ''),
    'session must be a non-empty string',
  )
  check(
    persist === undefined || typeof persist?.load === 'function',
    'persist must come from persistInIndexedDb()',
  )
  const g = globalThis as {
    navigator?: { locks?: LockManagerLike }
    BroadcastChannel?: typeof BroadcastChannel
  }
  const locks = input.locks === null ? undefined : (input.locks ?? g.navigator?.locks)
  check(
    locks === undefined || typeof locks.request === 'function',
    'locks must be a LockManager (navigator.locks)',
  )
  const Channel = g.BroadcastChannel
  const createChannel =
    input.createChannel === null
      ? undefined
      : (input.createChannel ?? (Channel && ((channelName: string) => new Channel(channelName))))
  check(
    createChannel === undefined || typeof createChannel === 'function',
    'createChannel must be a function',
  )
  check(typeof clock === 'function', 'clock must be a function')
  const duration = (key: 'askTimeout' | 'refreshTokenTtl', fallback: number, min: number) => {
    const value = input[key] ?? fallback
    check(Number.isFinite(value) && value >= min, `${key} must be a number of milliseconds ≥ ${min}`)
    return value
  }
  return Object.freeze({
    name,
    persist,
    session,
    askTimeout: duration('askTimeout', 150, 0),
    refreshTokenTtl: duration('refreshTokenTtl', 2_592_000_000, 1),
    locks,
    createChannel,
    clock,
  })
}
