import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { SessionChange, StoredSession } from '../../lib/core/stored-session';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { storedSession } from '../stores/store-contract';
import { bothDatabases, sleep, sqlite, StatementLog } from './databases';

const sid = () => randomBytes(16).toString('base64url');
const change = (
  session: StoredSession,
  set: Record<string, unknown>,
  base: StoredSession | null,
  unset: string[] = [],
): SessionChange => ({ set, unset, session, base });
const dataOf = (record: StoredSession | null) => {
  const { cookie: _cookie, ...data } = record as StoredSession;
  return data;
};
/** Statements that would mean an explicit transaction. */
const TRANSACTION = /^\s*(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT)/i;

describe.each(bothDatabases())('TypeOrmStore on %s', (_name, database) => {
  const log = new StatementLog();
  let dataSource: DataSource;
  let store: TypeOrmStore;
  /** Every row, expired or not, straight from the table. */
  const rows = () => dataSource.getRepository(SessionEntity).find({ order: { id: 'ASC' } });

  beforeAll(async () => {
    dataSource = await database.open({ entities: [SessionEntity], logger: log });
  });
  beforeEach(async () => {
    await dataSource.getRepository(SessionEntity).clear();
    store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
  });
  afterEach(() => store.close());
  afterAll(async () => {
    await dataSource?.destroy();
  });

  describe('expiry', () => {
    it('never returns, counts or lists an expired row that is still in the table', async () => {
      const [old, young] = [sid(), sid()];
      await store.set(old, storedSession({ a: 1 }, -1_000));
      await store.set(young, storedSession({ b: 2 }));
      expect(await rows()).toHaveLength(2);
      expect(await store.get(old)).toBeNull();
      expect(await store.length()).toBe(1);
      expect(await store.ids()).toEqual([young]);
      expect(Object.keys(await store.all())).toEqual([young]);
    });

    it('does not bring an expired session back on touch', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, -1_000));
      await expect(store.touch(id, storedSession({ a: 1 }, 3_600_000))).resolves.toBe(false);
      expect(await store.get(id)).toBeNull();
    });

    it('leaves an expired row as it is when a patch finds it, and resolves false', async () => {
      const id = sid();
      const stale = storedSession({ stale: true }, -1_000);
      await store.set(id, stale);
      const session = storedSession({ fresh: true });
      await expect(store.patch(id, change(session, { fresh: true }, null))).resolves.toBe(false);
      expect(await store.get(id)).toBeNull();
      expect((await rows()).map((row) => row.data)).toEqual([JSON.stringify(stale)]);
    });

    it('does not bring back a row that expired after it was read, but patches one touched since', async () => {
      const [id, touched] = [sid(), sid()];
      await store.set(id, storedSession({ a: 1 }, 300));
      await store.set(touched, storedSession({ a: 1 }, 300));
      const [read, readBeforeTouch] = [await store.get(id), await store.get(touched)];
      await store.touch(touched, storedSession({}, 3_600_000));
      await sleep(500);
      const later = storedSession({ a: 1, b: 2 });
      await expect(store.patch(id, change(later, { b: 2 }, read))).resolves.toBe(false);
      expect(await store.get(id)).toBeNull();
      await expect(store.patch(touched, change(later, { b: 2 }, readBeforeTouch))).resolves.toBe(
        true,
      );
      expect(dataOf(await store.get(touched))).toEqual({ a: 1, b: 2 });
    });

    it('stores the expiry as epoch ms, a number on both drivers', async () => {
      const id = sid();
      const session = storedSession({}, 60_000);
      await store.set(id, session);
      const [row] = await rows();
      expect(row!.expiresAt).toBe(Date.parse(session.cookie.expires as string));
    });

    it('keeps a browser-session cookie for the store ttl', async () => {
      const short = new TypeOrmStore({ dataSource, ttl: 300, cleanupInterval: 0 });
      const id = sid();
      await short.set(id, storedSession({ a: 1 }, null));
      expect(await short.get(id)).not.toBeNull();
      await sleep(600);
      expect(await short.get(id)).toBeNull();
      await short.close();
    });
  });

  describe('prune()', () => {
    it('deletes the expired rows in batches of batchSize, and leaves the live ones', async () => {
      const batched = new TypeOrmStore({ dataSource, batchSize: 10, cleanupInterval: 0 });
      for (let i = 0; i < 25; i++) await store.set(`old-${i}`, storedSession({ i }, -1_000));
      for (let i = 0; i < 5; i++) await store.set(`live-${i}`, storedSession({ i }));
      let deleted = 0;
      const statements = await log.during(async () => (deleted = await batched.prune()));
      expect(deleted).toBe(25);
      // 10 + 10 + 5: the third batch is short, so there is nothing left to look for.
      expect(statements).toHaveLength(3);
      for (const sql of statements)
        expect(sql).toMatch(/^DELETE FROM .* IN \(SELECT .* LIMIT 10\)$/);
      expect((await rows()).map((row) => row.id)).toEqual([
        'live-0',
        'live-1',
        'live-2',
        'live-3',
        'live-4',
      ]);
      await batched.close();
    });

    it('answers a callback too, and a call during a cleanup shares it', async () => {
      await store.set(sid(), storedSession({}, -1_000));
      const [first, second] = [store.prune(), store.prune()];
      expect(first).toBe(second);
      expect(await first).toBe(1);
      const count = await new Promise((resolve, reject) =>
        store.prune((err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(count).toBe(0);
    });
  });

  describe('the cleanup timer', () => {
    const timerOf = (s: TypeOrmStore) =>
      (s as unknown as { cleanupTimer?: NodeJS.Timeout }).cleanupTimer;

    it('deletes expired rows on its own', async () => {
      const timed = new TypeOrmStore({ dataSource, cleanupInterval: 50 });
      await timed.set('old', storedSession({}, -1_000));
      await timed.set('young', storedSession({}));
      for (let i = 0; i < 40 && (await rows()).length > 1; i++) await sleep(50);
      expect((await rows()).map((row) => row.id)).toEqual(['young']);
      await timed.close();
    });

    it('never holds the process open, and stops on close() and on onApplicationShutdown()', async () => {
      const closed = new TypeOrmStore({ dataSource });
      expect(timerOf(closed)?.hasRef()).toBe(false);
      await closed.close();
      expect(timerOf(closed)).toBeUndefined();

      const shutDown = new TypeOrmStore({ dataSource, cleanupInterval: 10 });
      await shutDown.onApplicationShutdown();
      expect(timerOf(shutDown)).toBeUndefined();
      // The DataSource is the app's: the store leaves it open.
      expect(dataSource.isInitialized).toBe(true);
    });

    it('is off with cleanupInterval: 0', () => {
      expect(timerOf(store)).toBeUndefined();
    });
  });

  describe('concurrency', () => {
    it('keeps every change of many requests that read one version and write different keys', async () => {
      const id = sid();
      await store.set(id, storedSession({ shared: 0 }));
      const reads = await Promise.all(Array.from({ length: 20 }, () => store.get(id)));
      await Promise.all(
        reads.map((read, i) =>
          store.patch(id, change(storedSession({ [`k${i}`]: i }), { [`k${i}`]: i }, read)),
        ),
      );
      const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
      expect(dataOf(await store.get(id))).toEqual({ shared: 0, ...expected });
    });

    it('a key deleted by one request and untouched by another stays deleted; the later write of a key wins', async () => {
      const id = sid();
      await store.set(id, storedSession({ gone: 1, same: 'initial' }));
      const [first, second] = [await store.get(id), await store.get(id)];
      await store.patch(id, change(storedSession({}), { same: 'first' }, first, ['gone']));
      await store.patch(id, change(storedSession({}), { same: 'second', other: true }, second));
      expect(dataOf(await store.get(id))).toEqual({ same: 'second', other: true });
    });

    it('a patch racing a destroy never brings the session back', async () => {
      for (let round = 0; round < 10; round++) {
        const id = sid();
        await store.set(id, storedSession({ a: 1 }));
        const read = await store.get(id);
        await Promise.all([
          store.destroy(id),
          store.patch(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, read)),
        ]);
        expect(await store.get(id)).toBeNull();
      }
      expect(await rows()).toEqual([]);
    });

    it('a set between a read and a patch is not overwritten with the old data', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const read = await store.get(id);
      await store.set(id, storedSession({ replaced: true }));
      await store.patch(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, read));
      expect(dataOf(await store.get(id))).toEqual({ replaced: true, b: 2 });
    });

    it('gives up with a clear error when every conditional write keeps failing', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const read = await store.get(id);
      // Make every UPDATE of the table affect no row, as if another request always won.
      const freeze =
        database.driver === 'sqlite'
          ? 'CREATE TRIGGER frozen BEFORE UPDATE ON sessions BEGIN SELECT RAISE(IGNORE); END'
          : 'CREATE RULE frozen AS ON UPDATE TO sessions DO INSTEAD NOTHING';
      await dataSource.query(freeze);
      try {
        await expect(store.patch(id, change(storedSession({}), { b: 2 }, read))).rejects.toThrow(
          /written concurrently 64 times .* gave up/,
        );
      } finally {
        await dataSource.query(
          database.driver === 'sqlite' ? 'DROP TRIGGER frozen' : 'DROP RULE frozen ON sessions',
        );
      }
    });

    it('touch stores the new cookie without losing a change made since', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, 60_000));
      const read = await store.get(id);
      const touched = storedSession({ a: 1 }, 3_600_000);
      await store.touch(id, touched);
      await store.patch(id, change(storedSession({}), { b: 2 }, read));
      expect(await store.get(id)).toEqual({ a: 1, b: 2, cookie: touched.cookie });
      expect((await rows())[0]!.expiresAt).toBe(Date.parse(touched.cookie.expires as string));
    });
  });

  describe('statements per operation, from TypeORM query logging', () => {
    it('an unchanged read is one SELECT by primary key that also filters out expired rows', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const statements = await log.during(() => store.get(id));
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(
        /^SELECT .* FROM "sessions" "s" WHERE "s"\."id" = \S+ AND "s"\."expires_at" > \S+$/,
      );
    });

    it('a patch of an existing session is one UPDATE conditioned on the version, and so is a second save', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const read = await store.get(id);
      let statements = await log.during(() =>
        store.patch(id, change(storedSession({}), { b: 2 }, read)),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(
        /^UPDATE "sessions" SET .*"version" = "version" \+ 1.* WHERE \("id" = \S+ AND "version" = \S+\)$/,
      );
      statements = await log.during(() =>
        store.patch(id, change(storedSession({}), { c: 3 }, read)),
      );
      expect(statements).toHaveLength(1);
      expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2, c: 3 });
    });

    it('a conflict costs one re-read and one retry', async () => {
      const id = sid();
      await store.set(id, storedSession({}));
      const [first, second] = [await store.get(id), await store.get(id)];
      await store.patch(id, change(storedSession({}), { a: 1 }, first));
      const statements = await log.during(() =>
        store.patch(id, change(storedSession({}), { b: 2 }, second)),
      );
      expect(statements.map((sql) => sql.split(' ')[0])).toEqual(['UPDATE', 'SELECT', 'UPDATE']);
    });

    it('set is one upsert; a patch of a missing session one SELECT; destroy one DELETE; touch a read and a write', async () => {
      const id = sid();
      const missed = await log.during(() =>
        store.patch(id, change(storedSession({ a: 1 }), { a: 1 }, null)),
      );
      expect(missed).toHaveLength(1);
      expect(missed[0]).toMatch(/^SELECT /);
      const upserted = await log.during(() => store.set(id, storedSession({ b: 2 })));
      expect(upserted).toHaveLength(1);
      expect(upserted[0]).toMatch(
        /^INSERT INTO .* ON CONFLICT \("id"\) DO UPDATE SET .*"version" = "sessions"\."version" \+ 1/,
      );
      const touched = await log.during(() => store.touch(id, storedSession({ b: 2 })));
      expect(touched.map((sql) => sql.split(' ')[0])).toEqual(['SELECT', 'UPDATE']);
      const destroyed = await log.during(() => store.destroy(id));
      expect(destroyed).toHaveLength(1);
      expect(destroyed[0]).toMatch(/^DELETE FROM "sessions" WHERE .*"id" = /);
    });

    it('never opens an explicit transaction', async () => {
      const id = sid();
      const statements = await log.during(async () => {
        await store.set(id, storedSession({ a: 1 }));
        const read = await store.get(id);
        await Promise.all([
          store.patch(id, change(storedSession({}), { b: 2 }, read)),
          store.patch(id, change(storedSession({}), { c: 3 }, read)),
        ]);
        await store.touch(id, storedSession({}));
        await store.prune();
        await store.destroy(id);
      });
      expect(statements.filter((sql) => TRANSACTION.test(sql))).toEqual([]);
    });
  });

  describe('values and errors', () => {
    it('stores the record as the JSON text of the session, byte for byte', async () => {
      const id = sid();
      const session = storedSession({ name: 'zoë ✓', nested: { list: [1, 'two', null] } });
      await store.set(id, session);
      expect((await rows())[0]!.data).toBe(JSON.stringify(session));
    });

    it('refuses a value JSON cannot hold on every write, and writes nothing', async () => {
      const id = sid();
      await expect(store.set(id, storedSession({ big: 1n }))).rejects.toThrow(
        /cannot store this session as JSON/,
      );
      expect(await rows()).toEqual([]);
      const kept = storedSession({ a: 1 });
      await store.set(id, kept);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(
        store.patch(id, change(storedSession({ circular }), { circular }, null)),
      ).rejects.toThrow(TypeError);
      expect((await rows()).map((row) => row.data)).toEqual([JSON.stringify(kept)]);
    });

    it('reports a database error to the caller and to a callback', async () => {
      const broken = new DataSource({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [SessionEntity],
      });
      await broken.initialize(); // no synchronize: the table does not exist
      const orphan = new TypeOrmStore({ dataSource: broken, cleanupInterval: 0 });
      await expect(orphan.get('x')).rejects.toThrow(/no such table/);
      const err = await new Promise((resolve) => orphan.set('x', storedSession({}), resolve));
      expect(String(err)).toMatch(/no such table/);
      await broken.destroy();
    });
  });
});

describe('TypeOrmStore options', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await sqlite.open({ entities: [SessionEntity] });
  });
  afterAll(() => dataSource.destroy());

  it('rejects what it cannot honour with a TypeError that names the option', () => {
    const repository = dataSource.getRepository(SessionEntity);
    const bad = (options: unknown) => () => new TypeOrmStore(options as never);
    expect(bad({})).toThrow(
      new TypeError(
        'TypeOrmStore needs a "dataSource" option (the app\'s TypeORM DataSource) or a "repository"',
      ),
    );
    expect(bad(undefined)).toThrow(TypeError);
    expect(bad({ dataSource, repository })).toThrow(
      'TypeOrmStore takes a "dataSource" or a "repository" option, not both',
    );
    expect(bad({ repository, entity: SessionEntity })).toThrow(
      'TypeOrmStore option "entity" goes with "dataSource"',
    );
    expect(bad({ dataSource: {} })).toThrow(
      'TypeOrmStore option "dataSource" must be a TypeORM DataSource',
    );
    expect(bad({ repository: {} })).toThrow(
      'TypeOrmStore option "repository" must be a TypeORM Repository',
    );
    expect(bad({ dataSource, ttl: 0 })).toThrow(
      'TypeOrmStore option "ttl" must be a positive number of ms, got 0',
    );
    expect(bad({ dataSource, cleanupInterval: -1 })).toThrow(
      'TypeOrmStore option "cleanupInterval" must be a number of ms, or 0 for no timer, got -1',
    );
    expect(bad({ dataSource, batchSize: 1.5 })).toThrow(
      'TypeOrmStore option "batchSize" must be a positive integer, got 1.5',
    );
    expect(bad({ dataSource, columns: 'userId' })).toThrow(
      'TypeOrmStore option "columns" must be a function of the session',
    );
  });

  it('fails at construction on an entity the DataSource does not have', () => {
    class Stranger extends SessionEntity {}
    expect(() => new TypeOrmStore({ dataSource, entity: Stranger })).toThrow(
      'TypeOrmStore: Stranger is not an entity of this DataSource; add it to its "entities"',
    );
  });

  it('accepts a DataSource that is initialized later, and says so if it never was', async () => {
    const later = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [SessionEntity],
      synchronize: true,
    });
    const early = new TypeOrmStore({ dataSource: later, cleanupInterval: 0 });
    await expect(early.get('x')).rejects.toThrow(
      'TypeOrmStore: the DataSource is not initialized yet',
    );
    await later.initialize();
    await early.set('x', storedSession({ a: 1 }));
    expect(await early.get('x')).toEqual(expect.objectContaining({ a: 1 }));
    await later.destroy();
  });
});
