export type { RedisClientLike, RedisTokenCache, RedisTokenCacheEvent, RedisTokenCacheOptions } from './redis-token-cache'
export { createRedisTokenCache } from './redis-token-cache'
export { ENCRYPTION_KEY_BYTES } from './redis-token-cache-crypto'
