import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, Entity, Index, Table, type DataSource } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  AddSessionsUserColumn,
  CreateSessionsTable,
  SessionEntity,
  TypeOrmStore,
} from '../../lib/typeorm';
import { storedSession, withUser } from '../support/records';
import { bothDatabases, sqlite } from './databases';

/** The documented way to add a column: a subclass with its own @Entity (concrete inheritance). */
@Entity('app_sessions')
class AppSession extends SessionEntity {
  @Index()
  @Column({ type: 'varchar', length: 64, nullable: true })
  userId!: string | null;
}

/**
 * `CreateSessionsTable` as an earlier release shipped it (same name, so TypeORM takes it for the
 * one already run): the table without the user column, for the upgrade path.
 */
class CreateSessionsTableBeforeUsers implements MigrationInterface {
  readonly name = 'CreateSessionsTable1795824000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = queryRunner.connection;
    const types = driver.mappedDataTypes;
    const table = new Table({
      name: 'sessions',
      columns: [
        { name: 'id', type: 'varchar', length: '255', isPrimary: true },
        { name: 'data', type: 'text' },
        { name: 'expires_at', type: 'bigint' },
        { name: 'created_at', type: String(types.createDate), default: types.createDateDefault },
        { name: 'updated_at', type: String(types.updateDate), default: types.updateDateDefault },
        { name: 'version', type: 'integer' },
      ],
      indices: [{ columnNames: ['expires_at'] }],
    });
    await queryRunner.createTable(table, true);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sessions', true);
  }
}

describe.each(bothDatabases())('SessionEntity on %s', (_name, database) => {
  let dataSource: DataSource | undefined;
  afterEach(async () => {
    await dataSource?.destroy();
    dataSource = undefined;
  });

  /** The table as the database describes it: columns by name, and the indexed column lists. */
  async function describeTable(name: string) {
    const runner = dataSource!.createQueryRunner();
    try {
      const table = (await runner.getTable(name))!;
      const columns = Object.fromEntries(table.columns.map((c) => [c.name, c]));
      return { columns, indexed: table.indices.map((index) => index.columnNames.join(',')).sort() };
    } finally {
      await runner.release();
    }
  }

  it('maps to a "sessions" table: id primary key, data text, indexed bigint expiry, indexed user, times, version', async () => {
    dataSource = await database.open({ entities: [SessionEntity] });
    const metadata = dataSource.getMetadata(SessionEntity);
    expect(metadata.tableName).toBe('sessions');
    expect(metadata.primaryColumns.map((c) => c.propertyName)).toEqual(['id']);
    expect(metadata.createDateColumn?.propertyName).toBe('createdAt');
    expect(metadata.updateDateColumn?.propertyName).toBe('updatedAt');
    expect(metadata.versionColumn?.propertyName).toBe('version');

    const { columns, indexed } = await describeTable('sessions');
    expect(Object.keys(columns).sort()).toEqual([
      'created_at',
      'data',
      'expires_at',
      'id',
      'updated_at',
      'user_id',
      'version',
    ]);
    expect(columns.id).toMatchObject({ isPrimary: true, length: '255' });
    expect(columns.id!.type).toMatch(/^(varchar|character varying)$/);
    expect(columns.data!.type).toBe('text');
    expect(columns.expires_at!.type).toBe('bigint');
    expect(columns.user_id).toMatchObject({ isNullable: true, length: '255' });
    expect(columns.user_id!.type).toMatch(/^(varchar|character varying)$/);
    expect(columns.version!.type).toBe('integer');
    const nullable = Object.values(columns).filter((c) => c.isNullable);
    expect(nullable.map((c) => c.name)).toEqual(['user_id']);
    expect(indexed).toEqual(['expires_at', 'user_id']);
  });

  it('reads the expiry back as a number and the times as dates', async () => {
    dataSource = await database.open({ entities: [SessionEntity] });
    const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
    const session = storedSession({ a: 1 });
    await store.set('abc', session);
    const row = await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: 'abc' });
    expect(row).toMatchObject({ id: 'abc', data: JSON.stringify(session), version: 1 });
    expect(row.expiresAt).toBe(Date.parse(session.cookie.expires as string));
    expect(row.createdAt).toBeInstanceOf(Date);
    expect(row.updatedAt).toBeInstanceOf(Date);
    await store.set('abc', session);
    expect(
      (await dataSource.getRepository(SessionEntity).findOneByOrFail({ id: 'abc' })).version,
    ).toBe(2);
  });

  describe('extended by a subclass', () => {
    it('gets every inherited column and index in its own table, plus its own', async () => {
      dataSource = await database.open({ entities: [AppSession] });
      expect(dataSource.getMetadata(AppSession).tableName).toBe('app_sessions');
      expect(dataSource.hasMetadata(SessionEntity)).toBe(false);
      const { columns, indexed } = await describeTable('app_sessions');
      expect(Object.keys(columns).sort()).toEqual([
        'created_at',
        'data',
        'expires_at',
        'id',
        'updated_at',
        'userId',
        'user_id',
        'version',
      ]);
      expect(indexed).toEqual(['expires_at', 'userId', 'user_id']);
    });

    it('serves as the store entity, with its extra column filled from the session', async () => {
      dataSource = await database.open({ entities: [AppSession] });
      const store = new TypeOrmStore({
        dataSource,
        entity: AppSession,
        cleanupInterval: 0,
        columns: (session) => ({ userId: (session.userId as string | undefined) ?? null }),
      });
      const users = dataSource.getRepository(AppSession);
      await store.set('one', storedSession({ userId: 'ada' }));
      await store.set('two', storedSession({}));
      const read = await store.get('two');
      await store.patch('two', {
        set: { userId: 'ada' },
        unset: [],
        session: storedSession({ userId: 'ada' }),
        base: read,
      });
      const bobs = storedSession({ userId: 'bob' });
      await store.set('three', bobs);
      expect((await users.findBy({ userId: 'ada' })).map((row) => row.id).sort()).toEqual([
        'one',
        'two',
      ]);

      // "Sign out everywhere": the app deletes by its own column; the store sees them gone.
      await users.delete({ userId: 'ada' });
      expect(await store.ids()).toEqual(['three']);

      const byRepository = new TypeOrmStore({ repository: users, cleanupInterval: 0 });
      expect(await byRepository.get('three')).toEqual(bobs);
      await store.close();
      await byRepository.close();
    });
  });

  describe('created by the CreateSessionsTable migration (synchronize: false)', () => {
    it('makes a working table, the one synchronize would make, and drops it on revert', async () => {
      dataSource = await database.open({
        entities: [SessionEntity],
        synchronize: false,
        migrations: [CreateSessionsTable],
      });
      const ran = await dataSource.runMigrations();
      expect(ran.map((migration) => migration.name)).toEqual(['CreateSessionsTable1795824000000']);

      const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
      const session = storedSession({ a: 1 });
      await store.set('abc', session);
      expect(await store.get('abc')).toEqual(session);
      await store.close();

      // Nothing left for synchronize (or migration:generate) to change.
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);

      await dataSource.undoLastMigration();
      const runner = dataSource.createQueryRunner();
      expect(await runner.hasTable('sessions')).toBe(false);
      await runner.release();
    });

    it('with AddSessionsUserColumn listed after it, on a new table: that one has nothing to add', async () => {
      dataSource = await database.open({
        entities: [SessionEntity],
        synchronize: false,
        migrations: [CreateSessionsTable, AddSessionsUserColumn],
      });
      const ran = await dataSource.runMigrations();
      expect(ran.map((migration) => migration.name)).toEqual([
        'CreateSessionsTable1795824000000',
        'AddSessionsUserColumn1796428800000',
      ]);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
      const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
      await store.set('abc', withUser(storedSession({ a: 1 }), 'ada'));
      expect((await store.findByUser('ada')).map((entry) => entry.id)).toEqual(['abc']);
      await store.close();
    });
  });

  describe('upgraded by the AddSessionsUserColumn migration (a table made by an earlier release)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-upgrade-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const migrations = [CreateSessionsTable, AddSessionsUserColumn];

    /** A DataSource on the table an earlier release made, holding one session written then. */
    async function openBeforeUsers(file: string, session: object) {
      const before = await database.open({
        entities: [],
        synchronize: false,
        migrations: [CreateSessionsTableBeforeUsers],
        file,
      });
      await before.runMigrations();
      const [p1, p2, p3] = database.driver === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
      await before.query(
        `INSERT INTO sessions (id, data, expires_at, version) VALUES (${p1}, ${p2}, ${p3}, 1)`,
        ['old', JSON.stringify(session), Date.now() + 3_600_000],
      );
      await before.destroy();
      return database.open({
        entities: [SessionEntity],
        synchronize: false,
        dropSchema: false,
        migrations,
        file,
      });
    }

    it('adds the indexed user column, keeps the rows, and leaves nothing for synchronize to change', async () => {
      const oldSession = withUser(storedSession({ kept: true }), 'ada');
      dataSource = await openBeforeUsers(join(dir, 'up.sqlite'), oldSession);
      const ran = await dataSource.runMigrations();
      expect(ran.map((migration) => migration.name)).toEqual([
        'AddSessionsUserColumn1796428800000',
      ]);
      const { columns, indexed } = await describeTable('sessions');
      expect(columns.user_id).toMatchObject({ isNullable: true, length: '255' });
      expect(indexed).toEqual(['expires_at', 'user_id']);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);

      const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
      expect(await store.get('old')).toEqual(oldSession);
      // Its user column is empty until the session is next written.
      expect(await store.findByUser('ada')).toEqual([]);
      await store.set('old', oldSession);
      await store.set('new', withUser(storedSession({}), 'ada'));
      expect((await store.findByUser('ada')).map((entry) => entry.id).sort()).toEqual([
        'new',
        'old',
      ]);
      await store.close();
    });

    it('reverts to the table it found: no user column or index, the rows kept', async () => {
      const oldSession = storedSession({ kept: true });
      dataSource = await openBeforeUsers(join(dir, 'down.sqlite'), oldSession);
      await dataSource.runMigrations();
      await dataSource.undoLastMigration();
      const { columns, indexed } = await describeTable('sessions');
      expect(columns.user_id).toBeUndefined();
      expect(indexed).toEqual(['expires_at']);
      const rows = (await dataSource.query('SELECT id, data FROM sessions')) as object[];
      expect(rows).toEqual([{ id: 'old', data: JSON.stringify(oldSession) }]);
    });

    it('says which migration is missing when there is no sessions table', async () => {
      dataSource = await database.open({
        entities: [SessionEntity],
        synchronize: false,
        migrations: [AddSessionsUserColumn],
      });
      // TypeORM also logs the failed migration to the console.
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        await expect(dataSource.runMigrations()).rejects.toThrow(
          'AddSessionsUserColumn: there is no "sessions" table; list CreateSessionsTable before it',
        );
      } finally {
        log.mockRestore();
      }
    });
  });
});

describe('SessionEntity on a SQLite file', () => {
  it('keeps sessions across a restart of the app (a new DataSource on the same file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    const file = join(dir, 'sessions.sqlite');
    try {
      const options = {
        entities: [SessionEntity],
        synchronize: false,
        migrations: [CreateSessionsTable],
        file,
      };
      const first = await sqlite.open(options);
      await first.runMigrations();
      const session = storedSession({ userId: 'ada' });
      await new TypeOrmStore({ dataSource: first, cleanupInterval: 0 }).set('abc', session);
      await first.destroy();

      const second = await sqlite.open(options);
      expect(await second.runMigrations()).toEqual([]);
      const store = new TypeOrmStore({ dataSource: second, cleanupInterval: 0 });
      expect(await store.get('abc')).toEqual(session);
      await second.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
