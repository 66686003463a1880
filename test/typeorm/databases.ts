import type { DataSource, DataSourceOptions, Logger } from 'typeorm';
import { DataSource as TypeOrmDataSource } from 'typeorm';
import { startPostgres, type PostgresServer } from '../support/postgres';

/** A TypeORM logger that keeps every statement sent, so tests can count them. */
export class StatementLog implements Logger {
  readonly statements: string[] = [];

  logQuery(query: string): void {
    this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  /** Forgets what was logged so far. */
  reset(): void {
    this.statements.length = 0;
  }

  /** The statements logged while `fn` ran. */
  async during(fn: () => Promise<unknown>): Promise<string[]> {
    this.reset();
    await fn();
    return [...this.statements];
  }
}

export type Driver = 'postgres' | 'sqlite';

/** What a test needs to open a DataSource on one of the two databases. */
export interface Database {
  readonly driver: Driver;
  /** A new, initialized DataSource on this database; the caller destroys it. */
  open(options: {
    entities: DataSourceOptions['entities'];
    synchronize?: boolean;
    migrations?: DataSourceOptions['migrations'];
    logger?: Logger;
    /** SQLite only: a file (under os.tmpdir()) instead of memory. */
    file?: string;
    /** PostgreSQL only: start from an empty database (the default); SQLite's memory always is. */
    dropSchema?: boolean;
  }): Promise<DataSource>;
}

export function postgres(server: () => PostgresServer): Database {
  return {
    driver: 'postgres',
    open: async ({ file: _file, ...options }) => {
      const { host, port, username, database } = server();
      const config: DataSourceOptions = {
        type: 'postgres',
        host,
        port,
        username,
        database,
        synchronize: true,
        dropSchema: true,
        ...options,
      };
      return new TypeOrmDataSource(config).initialize();
    },
  };
}

export const sqlite: Database = {
  driver: 'sqlite',
  open: async ({ file, dropSchema: _dropSchema, ...options }) =>
    new TypeOrmDataSource({
      type: 'better-sqlite3',
      database: file ?? ':memory:',
      synchronize: true,
      ...options,
    }).initialize(),
};

export { sleep } from '../support/time';

/**
 * Both databases, for `describe.each`: starts a throwaway PostgreSQL for the calling test file
 * (stopped after it) and gives it with SQLite.
 */
export function bothDatabases(): [string, Database][] {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return [
    ['PostgreSQL', postgres(() => server!)],
    ['SQLite', sqlite],
  ];
}
