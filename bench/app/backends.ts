import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { BenchConfig } from './config';

/**
 * Counts every SQL statement TypeORM sends, so the orchestrator can report statements per
 * request (it asks for the count over IPC before and after each run and takes the difference).
 */
export class StatementCounter implements TypeOrmLogger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export const statements = new StatementCounter();

/** What must be closed when the app stops. */
const closers: (() => Promise<unknown>)[] = [];

export async function closeBackends(): Promise<void> {
  await Promise.allSettled(closers.map((close) => close()));
}

/**
 * The app's node-redis client (redis v6), connected. The same client library for every
 * contender: connect-redis 9 only takes node-redis, and Tessera's RedisStore takes it too.
 */
export async function redisClient(config: BenchConfig) {
  if (!config.redisUrl) throw new Error('BENCH_REDIS_URL is not set');
  const { createClient } = await import('redis');
  const client = createClient({ url: config.redisUrl });
  client.on('error', (err: Error) => console.error(`redis client: ${err.message}`));
  await client.connect();
  closers.push(() => client.close());
  return client;
}

/** An initialized TypeORM DataSource on SQLite (a file, WAL) or PostgreSQL, with the session table. */
export async function dataSource(config: BenchConfig): Promise<DataSource> {
  const { DataSource: TypeOrmDataSource } = await import('typeorm');
  const { SessionEntity } = await import('../../lib/typeorm');
  const common = { entities: [SessionEntity], synchronize: true, logger: statements };
  let source: DataSource;
  if (config.store === 'sqlite') {
    if (!config.sqliteFile) throw new Error('BENCH_SQLITE_FILE is not set');
    source = new TypeOrmDataSource({
      type: 'better-sqlite3',
      database: config.sqliteFile,
      enableWAL: true,
      ...common,
    });
  } else {
    if (!config.pgPort) throw new Error('BENCH_PG_PORT is not set');
    source = new TypeOrmDataSource({
      type: 'postgres',
      host: '127.0.0.1',
      port: config.pgPort,
      username: 'postgres',
      database: 'postgres',
      ...common,
    });
  }
  await source.initialize();
  closers.push(() => source.destroy());
  return source;
}
