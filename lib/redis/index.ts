// The `@tessera/session/redis` entry. It loads neither ioredis nor redis: the app passes its own
// client.
export { RedisStore } from './redis.store';
export type {
  IoRedisClientLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  RedisStoreClient,
} from './redis.driver';
export type {
  RedisStoreLogger,
  RedisStoreOptions,
  RedisStoreSerializer,
} from './redis-store.options';
