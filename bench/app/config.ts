/**
 * What one contender process runs, read from the environment the orchestrator (bench/run.js)
 * sets. One process = one platform × one session library × one store, so that nothing of one
 * contender (JIT state, heap, timers) can slow another down.
 */
export type Platform = 'express' | 'fastify';
export type Library =
  | 'bare'
  | 'tessera'
  | 'express-session'
  | 'fastify-session'
  // Diagnostics for profiling (bench/profile.js), not in the results table: what any Nest
  // middleware costs on the platform, and what entering an AsyncLocalStorage context adds.
  | 'noop-middleware'
  | 'als-middleware'
  | 'accessor-middleware';
export type StoreKind = 'none' | 'memory' | 'redis' | 'sqlite' | 'postgres';

export interface BenchConfig {
  platform: Platform;
  library: Library;
  store: StoreKind;
  /** redis://127.0.0.1:port, for the Redis store. */
  redisUrl?: string;
  /** Loopback port of the throwaway PostgreSQL server. */
  pgPort?: number;
  /** SQLite database file (in a temporary directory the orchestrator removes). */
  sqliteFile?: string;
}

/**
 * The same options for every library, so that all of them do the same work: one cookie name,
 * one secret (≥ 32 characters, which @fastify/session insists on), no Secure flag on loopback
 * HTTP, a 4-hour maxAge, and neither saving empty sessions, rewriting unchanged ones nor
 * re-sending the cookie on every response.
 */
export const COMMON = {
  cookieName: 'connect.sid',
  secret: 'bench secret: keyboard cat, long enough for fastify',
  cookie: {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: false,
    maxAge: 14_400_000,
  },
  saveUninitialized: false,
  resave: false,
  rolling: false,
};

const PLATFORMS: readonly Platform[] = ['express', 'fastify'];
const LIBRARIES: readonly Library[] = [
  'bare',
  'tessera',
  'express-session',
  'fastify-session',
  'noop-middleware',
  'als-middleware',
  'accessor-middleware',
];
const STORES: readonly StoreKind[] = ['none', 'memory', 'redis', 'sqlite', 'postgres'];

function pick<T extends string>(name: string, allowed: readonly T[]): T {
  const value = process.env[name];
  if (!allowed.includes(value as T)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

export function readConfig(): BenchConfig {
  const config: BenchConfig = {
    platform: pick('BENCH_PLATFORM', PLATFORMS),
    library: pick('BENCH_LIBRARY', LIBRARIES),
    store: pick('BENCH_STORE', STORES),
    redisUrl: process.env.BENCH_REDIS_URL,
    pgPort: process.env.BENCH_PG_PORT ? Number(process.env.BENCH_PG_PORT) : undefined,
    sqliteFile: process.env.BENCH_SQLITE_FILE,
  };
  if (config.library === 'express-session' && config.platform !== 'express')
    throw new Error('express-session runs on Express only');
  if (config.library === 'fastify-session' && config.platform !== 'fastify')
    throw new Error('@fastify/session runs on Fastify only');
  const storeless = ['bare', 'noop-middleware', 'als-middleware', 'accessor-middleware'].includes(
    config.library,
  );
  if (storeless !== (config.store === 'none'))
    throw new Error(`${config.library} ${storeless ? 'has no' : 'needs a'} store`);
  return config;
}
