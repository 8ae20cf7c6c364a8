import { ConfigError } from '@tokenwell/core'

/**
 * A node-redis v5 client from `createClient()` (or anything with its `sendCommand`). The store
 * passes an `abortSignal`, so a command that times out while queued offline is dropped.
 */
export interface NodeRedisClientLike {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>
}

/** A node-redis v5 cluster from `createCluster()`. */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: string,
    isReadonly: boolean,
    args: string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>
  getSlotMaster(slot: number): unknown
}

/** An ioredis client: `new Redis()` or `new Cluster()` (anything with its `call`). */
export interface IoRedisClientLike {
  call(command: string, ...args: string[]): Promise<unknown>
}

/** A Redis client the caller created and connected; the store never connects or closes it. */
export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | IoRedisClientLike

/** Sends one command whose first key is `key`; `signal` aborts it if the client still holds it. */
export type SendCommand = (args: string[], key: string, signal: AbortSignal) => Promise<unknown>

/** Adapts a client to the one operation the store needs: send a command, get its reply. */
export function toSendCommand(client: unknown): SendCommand {
  const c = client as Partial<Record<'call' | 'sendCommand' | 'getSlotMaster', unknown>> | null
  if (typeof c === 'object' && c !== null) {
    if (typeof c.call === 'function') {
      // ioredis: call() is its generic command API (sendCommand takes its own Command objects)
      const io = client as IoRedisClientLike
      return (args) => io.call(args[0]!, ...args.slice(1))
    }
    if (typeof c.sendCommand === 'function' && typeof c.getSlotMaster === 'function') {
      const cluster = client as NodeRedisClusterLike
      return (args, key, abortSignal) => cluster.sendCommand(key, false, args, { abortSignal })
    }
    if (typeof c.sendCommand === 'function') {
      const node = client as NodeRedisClientLike
      return (args, _key, abortSignal) => node.sendCommand(args, { abortSignal })
    }
  }
  throw new ConfigError(
    'client must be a connected node-redis or ioredis client (createClient() or new Redis())',
  )
}

/** A bulk-string reply as text (a client configured for Buffers returns bytes). */
export function replyText(reply: unknown): string | undefined {
  if (reply === null || reply === undefined) return undefined
  if (typeof reply === 'string') return reply
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply)
  return String(reply)
}
