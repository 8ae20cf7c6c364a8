import { createHash } from 'node:crypto'
import type { StoreEntry } from '@tokenwell/core'
import type { RedisClientLike } from '@tokenwell/redis'
import { Redis } from 'ioredis'
import { createClient } from 'redis'

export {
  findRedisServer,
  type RedisServer,
  redisSkipReason,
  startRedisServer,
} from '../../../test/support/redis-server.js'

/** A connected client of either kind, and how to close it. */
export interface TestClient {
  client: RedisClientLike
  close(): Promise<void>
}

export type ClientKind = 'node-redis' | 'ioredis'
export const CLIENT_KINDS: readonly ClientKind[] = ['node-redis', 'ioredis']

export async function connectClient(kind: ClientKind, url: string): Promise<TestClient> {
  if (kind === 'ioredis') {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await client.connect()
    return { client, close: async () => client.disconnect() }
  }
  // node-redis emits 'error' for every lost connection: without a listener the process dies
  const client = await createClient({ url })
    .on('error', () => {})
    .connect()
  return { client, close: async () => client.destroy() }
}

/** The few raw commands tests use to look at what the store wrote. */
export interface Inspector {
  keys(pattern: string): Promise<string[]>
  get(key: string): Promise<string | null>
  set(key: string, value: string): Promise<unknown>
  pTTL(key: string): Promise<number>
  destroy(): void
}

/** A raw node-redis client to look at what the store wrote. */
export async function connectInspector(url: string): Promise<Inspector> {
  const client = await createClient({ url })
    .on('error', () => {})
    .connect()
  return client as unknown as Inspector
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** A store entry as core writes it, for a token that expires `lifetime` ms from now. */
export function entryFor(
  accessToken: string,
  options: { lifetime?: number; refreshToken?: string; raw?: Record<string, unknown> } = {},
): StoreEntry {
  const now = Date.now()
  const lifetime = options.lifetime ?? 300_000
  return {
    token: {
      accessToken,
      tokenType: 'Bearer',
      expiresAt: now + lifetime,
      ...(options.refreshToken !== undefined && { refreshToken: options.refreshToken }),
      raw: { access_token: accessToken, token_type: 'Bearer', ...options.raw },
    },
    obtainedAt: now,
    refreshAt: now + lifetime / 2,
    fingerprint: sha256Hex(accessToken),
  }
}

/** A cache key like core's: `tokenwell:<sha256>`. */
export function cacheKey(name: string): string {
  return `tokenwell:${sha256Hex(name)}`
}
