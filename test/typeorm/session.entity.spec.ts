import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, Entity, Index, type DataSource } from 'typeorm';
import { CreateSessionsTable, SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { storedSession } from '../support/records';
import { bothDatabases, sqlite } from './databases';

/** The documented way to add a column: a subclass with its own @Entity (concrete inheritance). */
@Entity('app_sessions')
class AppSession extends SessionEntity {
  @Index()
  @Column({ type: 'varchar', length: 64, nullable: true })
  userId!: string | null;
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

  it('maps to a "sessions" table: id primary key, data text, indexed bigint expiry, times, version', async () => {
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
      'version',
    ]);
    expect(columns.id).toMatchObject({ isPrimary: true, length: '255' });
    expect(columns.id!.type).toMatch(/^(varchar|character varying)$/);
    expect(columns.data!.type).toBe('text');
    expect(columns.expires_at!.type).toBe('bigint');
    expect(columns.version!.type).toBe('integer');
    expect(Object.values(columns).every((c) => !c.isNullable)).toBe(true);
    expect(indexed).toEqual(['expires_at']);
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
        'version',
      ]);
      expect(indexed).toEqual(['expires_at', 'userId']);
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
