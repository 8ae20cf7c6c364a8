export type { EncryptionKey } from './encryption.js'
export type {
  IoRedisClientLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  RedisClientLike,
} from './redis-client.js'
export { RedisStoreError } from './redis-store-error.js'
export {
  createRedisTokenStore,
  type RedisTokenStore,
  type RedisTokenStoreOptions,
} from './redis-token-store.js'
