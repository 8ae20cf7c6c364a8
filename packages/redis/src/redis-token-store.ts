import { ConfigError, type StoreEntry, type TokenStore } from '@tokenwell/core'
import { createCommandRunner } from './command-runner.js'
import { createCipher, type EncryptionKey } from './encryption.js'
import { createCodec } from './entry-codec.js'
import { acquireLease } from './lease.js'
import { type RedisClientLike, replyText, toSendCommand } from './redis-client.js'
import { RedisStoreError } from './redis-store-error.js'
import { COMPARE_AND_DELETE, SET_ENTRY } from './scripts.js'
import { clampTtl } from './ttl.js'

export interface RedisTokenStoreOptions {
  /**
   * A node-redis v5 (`createClient()`) or ioredis (`new Redis()`) client that you connect and
   * close. Give it an `'error'` listener: node-redis emits one for every lost connection.
   */
  client: RedisClientLike
  /** Prepended to every key, e.g. `'myapp:'`. Must not contain `{` or `}` (they form the hash tag). @default '' */
  prefix?: string
  /**
   * Encrypts entries and refresh tokens at rest with AES-256-GCM. Pass a list to rotate keys:
   * the first encrypts, every one is tried on read. Without it (or `undefined`), values are stored in clear.
   */
  encryptionKey?: EncryptionKey | readonly EncryptionKey[] | undefined
  /**
   * How long the fetch lock lives in Redis, ms, and how far each heartbeat of its holder extends
   * it. @default the provider's `lockTtl` (15 000)
   */
  lockTtl?: number
  /** Longest wait for one Redis command, ms; a slower command counts as a failure. @default 500 */
  commandTimeout?: number
  /** How often a process that waits for another's token looks for it, ms. @default 40 */
  pollInterval?: number
  /** After a failed command, Redis is skipped this long (ms): an outage costs one timeout, not one per call. @default 1_000 */
  outageBackoff?: number
  /**
   * How long a refresh token is kept after its access token expired, ms, when the token
   * response has no `refresh_expires_in` / `refresh_token_expires_in`. @default 2_592_000_000 (30 days)
   */
  refreshTokenTtl?: number
}

/** A `TokenStore` with every optional coordination method of core. */
export type RedisTokenStore = Required<TokenStore>

const defaults = {
  prefix: '',
  commandTimeout: 500,
  pollInterval: 40,
  outageBackoff: 1_000,
  refreshTokenTtl: 2_592_000_000,
}
const KNOWN_KEYS = new Set([
  'client',
  'prefix',
  'encryptionKey',
  'lockTtl',
  'commandTimeout',
  'pollInterval',
  'outageBackoff',
  'refreshTokenTtl',
])

/**
 * A `TokenStore` over Redis, so a fleet of processes shares one token per cache key: when it is
 * missing or expiring one process fetches it (a `SET NX PX` lock with a fencing value) and the
 * others poll until it is stored; a 401 drops it only if Redis still holds that same token (a Lua
 * compare-and-delete). Keys are `<prefix>{tokenwell:<sha256>}:token|lock|refresh`, never a secret.
 * Entries expire with their token. Every failure or slow command rejects with `RedisStoreError`,
 * which core turns into a local cache miss and a `store-error` event. Throws `ConfigError` for bad options.
 *
 * @example
 * const redis = await createClient({ url: process.env.REDIS_URL }).on('error', () => {}).connect()
 * const provider = createTokenProvider({
 *   tokenEndpoint: 'https://auth.example.com/oauth2/token',
 *   clientId: 'svc-a',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   store: createRedisTokenStore({ client: redis, prefix: 'svc-a:', encryptionKey: process.env.TOKEN_KEY }),
 * })
 */
export function createRedisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options must be an object')
  for (const name of Object.keys(options)) {
    if (!KNOWN_KEYS.has(name)) throw new ConfigError(`unknown option "${name}"`)
  }
  const send = toSendCommand(options.client)
  const prefix = options.prefix ?? defaults.prefix
  if (typeof prefix !== 'string' || /[{}]/.test(prefix))
    throw new ConfigError('prefix must be a string without { or }')
  const cipher = options.encryptionKey === undefined ? undefined : createCipher(options.encryptionKey)
  const lockTtl = options.lockTtl === undefined ? undefined : duration('lockTtl', options.lockTtl, 1)
  const commandTimeout = duration('commandTimeout', options.commandTimeout ?? defaults.commandTimeout, 1)
  const pollInterval = duration('pollInterval', options.pollInterval ?? defaults.pollInterval, 1)
  const outageBackoff = duration('outageBackoff', options.outageBackoff ?? defaults.outageBackoff, 0)
  const refreshTokenTtl = duration('refreshTokenTtl', options.refreshTokenTtl ?? defaults.refreshTokenTtl, 1)
  const run = createCommandRunner(send, commandTimeout, outageBackoff)
  const codec = createCodec(cipher)

  const keysOf = (key: string) => {
    const base = `${prefix}{${key}}` // one hash tag: every key of an entry lives on one cluster slot
    return {
      token: `${base}:token`,
      lock: `${base}:lock`,
      refresh: `${base}:refresh`,
      fence: `${base}:fence`,
      redeeming: `${base}:redeeming`,
    }
  }

  /** Writes the entry and its refresh token in one script; with `fence`, only if no one took the lease since. */
  async function write(key: string, entry: StoreEntry, ttl: number, fence = '', mark = ''): Promise<boolean> {
    const k = keysOf(key)
    if (!Number.isFinite(ttl)) throw new RedisStoreError('ttl must be a finite number of ms')
    const refreshToken = entry.token.refreshToken
    const refreshValue =
      refreshToken === undefined ? '' : await codec.sealRefreshToken(k.refresh, refreshToken)
    const refreshTtl = Math.max(ttl, refreshRetention(entry) ?? refreshTokenTtl)
    const value = await codec.sealEntry(k.token, entry)
    const args = [
      k.token,
      k.refresh,
      k.fence,
      k.redeeming,
      value,
      clampTtl(ttl),
      refreshValue,
      clampTtl(refreshTtl),
      fence,
      mark,
    ]
    return Number(await run('set', ['EVAL', SET_ENTRY, '4', ...args], k.token)) === 1
  }

  const store: RedisTokenStore = {
    async get(key) {
      const { token } = keysOf(key)
      const text = replyText(await run('GET', ['GET', token], token))
      return text === undefined ? undefined : codec.openEntry(token, text)
    },
    async set(key, entry, ttl) {
      await write(key, entry, ttl)
    },
    async delete(key) {
      const { token } = keysOf(key)
      await run('DEL', ['DEL', token], token)
    },
    async compareAndDelete(key, fingerprint) {
      const { token } = keysOf(key)
      const deleted = await run(
        'compare-and-delete',
        ['EVAL', COMPARE_AND_DELETE, '1', token, fingerprint],
        token,
      )
      return Number(deleted) === 1
    },
    acquireLease(key, ttl) {
      const k = keysOf(key)
      return acquireLease(
        run,
        k,
        lockTtl ?? ttl,
        refreshTokenTtl,
        (entry, entryTtl, fence, mark) => write(key, entry, entryTtl, fence, mark),
        lockTtl,
      )
    },
    async waitForEntry(key, timeout, accept) {
      const k = keysOf(key)
      const deadline = Date.now() + timeout
      for (;;) {
        // one round trip for both: the entry, and whether anyone still holds the lock
        const [value, holder] = (await run('MGET', ['MGET', k.token, k.lock], k.token)) as unknown[]
        const text = replyText(value)
        if (text !== undefined) {
          const entry = await codec.openEntry(k.token, text).catch(() => undefined)
          if (entry && accept(entry)) return entry
        }
        const left = deadline - Date.now()
        // no holder and no token: the holder failed or died, the caller may take the lease
        if (replyText(holder) === undefined || left <= 0) return undefined
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(left, pollInterval * (0.75 + Math.random() / 2))),
        )
      }
    },
    async getRefreshToken(key) {
      const { refresh } = keysOf(key)
      const text = replyText(await run('GET', ['GET', refresh], refresh))
      return text === undefined ? undefined : codec.openRefreshToken(refresh, text)
    },
  }
  const description = { prefix, encrypted: cipher !== undefined }
  Object.defineProperties(store, {
    toJSON: { value: () => ({ ...description }), enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: {
      value: () => `RedisTokenStore { prefix: '${prefix}', encrypted: ${description.encrypted} }`,
      enumerable: false,
    },
  })
  return Object.freeze(store)
}

/** Keycloak's `refresh_expires_in`, or `refresh_token_expires_in` (GitHub, Azure AD B2C), in ms. */
function refreshRetention(entry: StoreEntry): number | undefined {
  const raw = entry.token.raw
  const seconds = raw['refresh_expires_in'] ?? raw['refresh_token_expires_in']
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined
}

function duration(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number of milliseconds ≥ ${min}`)
  }
  return value
}
