import type { StoredSession } from '../core/stored-session';
import type { RedisStoreClient } from './redis.driver';

/** Turns sessions into the text stored in Redis and back (`JSON` unless given). */
export interface RedisStoreSerializer {
  parse(text: string): unknown;
  stringify(session: StoredSession): string;
}

/** Where the store reports data it had to ignore; Nest's `Logger` and `console` both fit. */
export interface RedisStoreLogger {
  warn(message: string): unknown;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * The app's own client: ioredis `Redis` (standalone or Sentinel) or `Cluster`, or node-redis
   * `createClient()` / `createCluster()`, connected (node-redis) or connecting. The store sends
   * raw commands through it and never closes it.
   */
  client: RedisStoreClient;
  /**
   * Put in front of each session id to make its key. Keys outside the prefix are never read,
   * listed or deleted, so a Redis shared with other data is safe.
   * @default 'sess:'
   */
  prefix?: string;
  /**
   * How long (ms, not seconds as in connect-redis) a session whose cookie has no expiry (a
   * browser-session cookie) is kept. Other sessions live exactly as long as their cookie.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * A replacement for `JSON` (connect-redis's `serializer` fits). With one, `patch` and `touch`
   * cannot merge inside Redis: they merge in the app and write with a compare-and-set script,
   * retrying on a concurrent write: one round trip when nothing raced, plus a `GET` first when
   * the record was not read by this store (always so for `touch`).
   * @default JSON
   */
  serializer?: RedisStoreSerializer;
  /**
   * The `COUNT` hint of each `SCAN` done by `ids`, `length`, `all` and `clear`.
   * @default 100
   */
  scanCount?: number;
  /**
   * Told when a key holds something that is not a session (not JSON, wrong shape); `get`
   * then answers `null`. `false` keeps quiet.
   * @default console
   */
  logger?: RedisStoreLogger | false;
}
