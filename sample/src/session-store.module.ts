import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemoryStore, type SessionStore } from '../../lib';

/** The store the sample's sessions live in, under this token. */
export const SAMPLE_STORE = Symbol('sample:store');
/** What to close when the app stops: the connection the sample opened for its store. */
const SAMPLE_CONNECTION = Symbol('sample:connection');

export const STORE_KINDS = ['sqlite', 'memory', 'postgres', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

interface Connection {
  store: SessionStore;
  close(): Promise<unknown>;
}

/** The SQLite file: under the sample's own data folder (git-ignored) unless SESSION_SQLITE_FILE says. */
export function sqliteFile(): string {
  return process.env.SESSION_SQLITE_FILE ?? join(__dirname, '..', 'data', 'sessions.sqlite');
}

/**
 * Opens the store `SESSION_STORE` names. Each client is loaded only when picked, as an app
 * would: a memory-store run needs neither TypeORM nor Redis.
 */
async function connect(kind: string): Promise<Connection> {
  switch (kind) {
    case 'memory': {
      const store = new MemoryStore();
      return { store, close: async () => store.close() };
    }
    case 'sqlite':
    case 'postgres': {
      const { DataSource } = await import('typeorm');
      const { SessionEntity, TypeOrmStore } = await import('../../lib/typeorm');
      const file = sqliteFile();
      if (kind === 'sqlite') mkdirSync(dirname(file), { recursive: true });
      const dataSource = await new DataSource(
        kind === 'sqlite'
          ? { type: 'better-sqlite3', database: file, entities: [SessionEntity], synchronize: true }
          : {
              type: 'postgres',
              url: required('DATABASE_URL'),
              entities: [SessionEntity],
              synchronize: true,
            },
      ).initialize();
      const store = new TypeOrmStore({ dataSource });
      return { store, close: async () => (await store.close(), dataSource.destroy()) };
    }
    case 'redis': {
      const { default: Redis } = await import('ioredis');
      const { RedisStore } = await import('../../lib/redis');
      const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
        maxRetriesPerRequest: 1,
      });
      return { store: new RedisStore({ client }), close: () => client.quit() };
    }
    default:
      throw new Error(`SESSION_STORE must be one of ${STORE_KINDS.join(', ')}, got "${kind}"`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `SESSION_STORE=postgres needs ${name} (e.g. postgres://user@127.0.0.1:5432/app)`,
    );
  return value;
}

/** Closes the sample's store connection when the app stops. */
class ConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(SAMPLE_CONNECTION) private readonly connection: Connection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

/** Provides the store picked by `SESSION_STORE` (default: SQLite in the sample's data folder). */
@Module({})
export class SessionStoreModule {
  static forRoot(): DynamicModule {
    const providers: Provider[] = [
      {
        provide: SAMPLE_CONNECTION,
        useFactory: () => connect(process.env.SESSION_STORE ?? 'sqlite'),
      },
      {
        provide: SAMPLE_STORE,
        useFactory: (connection: Connection) => connection.store,
        inject: [SAMPLE_CONNECTION],
      },
      ConnectionCloser,
    ];
    return { module: SessionStoreModule, providers, exports: [SAMPLE_STORE] };
  }
}
