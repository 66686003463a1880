export {
  RedisStore,
  type IoRedisClientLike,
  type NodeRedisClientLike,
  type NodeRedisClusterLike,
  type RedisStoreClient,
  type RedisStoreLogger,
  type RedisStoreOptions,
  type RedisStoreSerializer,
} from './redis.store';
