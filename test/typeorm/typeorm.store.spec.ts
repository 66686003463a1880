import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { applyChange } from '../../lib/core/stored-session';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { sid } from '../support/ids';
import { change, dataOf, storedSession, withUser } from '../support/records';
import { bothDatabases, sleep, sqlite, StatementLog } from './databases';

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
      await expect(store.patch(id, change(session, { fresh: true }, [], null))).resolves.toBe(
        false,
      );
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
      await expect(store.patch(id, change(later, { b: 2 }, [], read))).resolves.toBe(false);
      expect(await store.get(id)).toBeNull();
      await expect(
        store.patch(touched, change(later, { b: 2 }, [], readBeforeTouch)),
      ).resolves.toBe(true);
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
          store.patch(id, change(storedSession({ [`k${i}`]: i }), { [`k${i}`]: i }, [], read)),
        ),
      );
      const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
      expect(dataOf(await store.get(id))).toEqual({ shared: 0, ...expected });
    });

    it('a key deleted by one request and untouched by another stays deleted; the later write of a key wins', async () => {
      const id = sid();
      await store.set(id, storedSession({ gone: 1, same: 'initial' }));
      const [first, second] = [await store.get(id), await store.get(id)];
      await store.patch(id, change(storedSession({}), { same: 'first' }, ['gone'], first));
      await store.patch(id, change(storedSession({}), { same: 'second', other: true }, [], second));
      expect(dataOf(await store.get(id))).toEqual({ same: 'second', other: true });
    });

    it('a patch racing a destroy never brings the session back', async () => {
      for (let round = 0; round < 10; round++) {
        const id = sid();
        await store.set(id, storedSession({ a: 1 }));
        const read = await store.get(id);
        await Promise.all([
          store.destroy(id),
          store.patch(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], read)),
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
      await store.patch(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], read));
      expect(dataOf(await store.get(id))).toEqual({ replaced: true, b: 2 });
    });

    it('gives up with a clear error when every conditional write of the versioned path keeps failing', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const read = await store.get(id);
      // Neither database merges this by itself: a NUL (PostgreSQL's jsonb), a quote in a key (SQLite).
      // Make every UPDATE of the table affect no row, as if another request always won.
      const freeze =
        database.driver === 'sqlite'
          ? 'CREATE TRIGGER frozen BEFORE UPDATE ON sessions BEGIN SELECT RAISE(IGNORE); END'
          : 'CREATE RULE frozen AS ON UPDATE TO sessions DO INSTEAD NOTHING';
      await dataSource.query(freeze);
      try {
        await expect(
          store.patch(id, change(storedSession({}), { 'b"': '\0' }, [], read)),
        ).rejects.toThrow(/lost 64 races in a row to concurrent writes; gave up/);
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
      await store.patch(id, change(storedSession({}), { b: 2 }, [], read));
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

    it('a patch of an existing session is one UPDATE that merges in the database, with no version check', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const read = await store.get(id);
      let statements = await log.during(() =>
        store.patch(id, change(storedSession({}), { b: 2 }, ['a'], read)),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(
        /^UPDATE "sessions" SET .*"version" = "version" \+ 1.* WHERE \("id" = \S+ AND "expires_at" > \S+\)$/,
      );
      expect(statements[0]).toMatch(
        database.driver === 'sqlite'
          ? /json_set\(json_remove\("data", /
          : /CAST\("data" AS jsonb\)/,
      );
      // A second save of the request, after another request wrote: still one statement.
      await store.patch(id, change(storedSession({}), { other: true }, [], read));
      statements = await log.during(() =>
        store.patch(id, change(storedSession({}), { c: 3 }, [], read)),
      );
      expect(statements).toHaveLength(1);
      expect(dataOf(await store.get(id))).toEqual({ b: 2, c: 3, other: true });
    });

    it('50 concurrent patches of one session cost one statement each', async () => {
      const id = sid();
      await store.set(id, storedSession({ shared: 0 }));
      const reads = await Promise.all(Array.from({ length: 50 }, () => store.get(id)));
      const statements = await log.during(() =>
        Promise.all(
          reads.map((read, i) =>
            store.patch(id, change(storedSession({}), { [`k${i}`]: i }, [], read)),
          ),
        ),
      );
      expect(statements).toHaveLength(50);
      expect(statements.every((sql) => sql.startsWith('UPDATE '))).toBe(true);
    });

    it('a change the database cannot merge by itself costs a read and a versioned UPDATE, a conflict one more of each', async () => {
      const id = sid();
      await store.set(id, storedSession({}));
      const odd = { 'q"k': 'nul \0' }; // versioned on both: a NUL on PostgreSQL, a quote on SQLite
      const alone = await log.during(() =>
        store.patch(id, change(storedSession({}), odd, [], null)),
      );
      expect(alone.map((sql) => sql.split(' ')[0])).toEqual(['SELECT', 'UPDATE']);
      expect(alone[1]).toMatch(/WHERE \("id" = \S+ AND "version" = \S+\)$/);
      // Another write lands between this change's read and its write.
      let raced = false;
      const statements = await log.during(async () => {
        const table = (store as unknown as { table: { select: (...a: unknown[]) => unknown } })
          .table;
        const select = table.select.bind(table);
        jest.spyOn(table, 'select').mockImplementation(async (...args: unknown[]) => {
          const row = await select(...args);
          if (!raced) {
            raced = true;
            await store.patch(id, change(storedSession({}), { other: 1 }, [], null));
          }
          return row;
        });
        try {
          await store.patch(id, change(storedSession({}), odd, [], null));
        } finally {
          jest.restoreAllMocks();
        }
      });
      // On PostgreSQL the record holds a NUL now, so the other write is versioned too (its merge
      // fails on the stored record, and writes nothing).
      const other = database.driver === 'sqlite' ? ['UPDATE'] : ['UPDATE', 'SELECT', 'UPDATE'];
      expect(statements.map((sql) => sql.split(' ')[0])).toEqual([
        'SELECT',
        ...other,
        'UPDATE', // conflict
        'SELECT',
        'UPDATE',
      ]);
      expect(dataOf(await store.get(id))).toEqual({ ...odd, other: 1 });
    });

    it('set is one upsert; a patch of a missing session one UPDATE that finds nothing; touch one UPDATE; destroy one DELETE', async () => {
      const id = sid();
      const missed = await log.during(() =>
        store.patch(id, change(storedSession({ a: 1 }), { a: 1 }, [], null)),
      );
      expect(missed).toHaveLength(1);
      expect(missed[0]).toMatch(/^UPDATE /);
      expect(await rows()).toEqual([]);
      const upserted = await log.during(() => store.set(id, storedSession({ b: 2 })));
      expect(upserted).toHaveLength(1);
      expect(upserted[0]).toMatch(
        /^INSERT INTO .* ON CONFLICT \("id"\) DO UPDATE SET .*"version" = "sessions"\."version" \+ 1/,
      );
      const touched = await log.during(() => store.touch(id, storedSession({ b: 2 })));
      expect(touched).toHaveLength(1);
      expect(touched[0]).toMatch(
        /^UPDATE "sessions" SET .* WHERE \("id" = \S+ AND "expires_at" > \S+\)$/,
      );
      const destroyed = await log.during(() => store.destroy(id));
      expect(destroyed).toHaveLength(1);
      expect(destroyed[0]).toMatch(/^DELETE FROM "sessions" WHERE .*"id" = /);
    });

    it('findByUser is one SELECT of the user’s unexpired rows; destroyByUser one DELETE of them', async () => {
      const [other, current] = [sid(), sid()];
      await store.set(other, withUser(storedSession({}), 'ada'));
      await store.set(current, withUser(storedSession({}), 'ada'));
      let found: unknown[] = [];
      const selected = await log.during(async () => (found = await store.findByUser('ada')));
      expect(found).toHaveLength(2);
      expect(selected).toHaveLength(1);
      expect(selected[0]).toMatch(
        /^SELECT .* FROM "sessions" "s" WHERE "s"\."expires_at" > \S+ AND "s"\."user_id" = \S+$/,
      );
      let destroyed = 0;
      const deleted = await log.during(
        async () => (destroyed = await store.destroyByUser('ada', current)),
      );
      expect(destroyed).toBe(1);
      expect(deleted).toEqual([
        expect.stringMatching(
          /^DELETE FROM "sessions" WHERE \("user_id" = \S+ AND "expires_at" > \S+ AND "id" != \S+\)$/,
        ),
      ]);
      const all = await log.during(
        async () => (destroyed = await store.destroyByUser('ada', undefined)),
      );
      expect(destroyed).toBe(1);
      expect(all).toEqual([
        expect.stringMatching(
          /^DELETE FROM "sessions" WHERE \("user_id" = \S+ AND "expires_at" > \S+\)$/,
        ),
      ]);
    });

    it('never opens an explicit transaction', async () => {
      const id = sid();
      const statements = await log.during(async () => {
        await store.findByUser('ada');
        await store.destroyByUser('ada', undefined);
        await store.set(id, storedSession({ a: 1 }));
        const read = await store.get(id);
        await Promise.all([
          store.patch(id, change(storedSession({}), { b: 2 }, [], read)),
          store.patch(id, change(storedSession({}), { c: 3 }, [], read)),
        ]);
        await store.touch(id, storedSession({}));
        await store.prune();
        await store.destroy(id);
      });
      expect(statements.filter((sql) => TRANSACTION.test(sql))).toEqual([]);
    });
  });

  describe('the user column (the per-user index)', () => {
    /** The user column of the row of `id`, as the table holds it. */
    const userColumn = async (id: string) =>
      (await dataSource.getRepository(SessionEntity).findOneByOrFail({ id })).user;
    /** A change as Tessera makes it: the data keys, and the cookie of `after`, carrying its user. */
    const requestChange = (after: ReturnType<typeof storedSession>, set: Record<string, unknown>) =>
      change(after, { ...set, cookie: after.cookie }, [], null);
    /** Neither database merges this key by itself: a NUL on PostgreSQL, a quote on SQLite. */
    const odd = { 'q"k': 'nul \0' };

    it('set writes the record’s cookie.user to the column, and NULL for a record without one', async () => {
      const [ada, nobody] = [sid(), sid()];
      await store.set(ada, withUser(storedSession({}), 'ada'));
      await store.set(nobody, storedSession({}));
      expect(await userColumn(ada)).toBe('ada');
      expect(await userColumn(nobody)).toBeNull();
      await store.set(ada, storedSession({}));
      expect(await userColumn(ada)).toBeNull();
    });

    it('follows cookie.user through the merge UPDATE and touch, and keeps it for a change without a cookie', async () => {
      const id = sid();
      await store.set(id, withUser(storedSession({}), 'ada'));
      await store.patch(id, requestChange(withUser(storedSession({}), 'bob'), { a: 1 }));
      expect(await userColumn(id)).toBe('bob');
      await store.patch(id, change(storedSession({}), { b: 2 }, [], null));
      expect(await userColumn(id)).toBe('bob');
      await store.touch(id, storedSession({}));
      expect(await userColumn(id)).toBeNull();
      await store.touch(id, withUser(storedSession({}), 'carol'));
      expect(await userColumn(id)).toBe('carol');
      expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
    });

    it('follows cookie.user on the versioned path too, from the merged record', async () => {
      const id = sid();
      await store.set(id, withUser(storedSession({}), 'ada'));
      const moved = await log.during(() =>
        store.patch(id, requestChange(withUser(storedSession({}), 'bob'), odd)),
      );
      expect(moved.map((sql) => sql.split(' ')[0])).toEqual(['SELECT', 'UPDATE']);
      expect(await userColumn(id)).toBe('bob');
      // No cookie in the change: the merged record keeps bob's cookie, and the row bob.
      await store.patch(id, change(storedSession({}), { ...odd, more: 1 }, [], null));
      expect(await userColumn(id)).toBe('bob');
      await store.patch(id, requestChange(storedSession({}), odd));
      expect(await userColumn(id)).toBeNull();
      expect(await store.findByUser('bob')).toEqual([]);
    });
  });

  describe('what the database merges', () => {
    const tricky = {
      n: 0.1,
      big: 1.7976931348623157e308,
      tiny: 5e-324,
      text: 'zoë ✓ \u2028 "quoted" \\ back',
      nested: { z: 1, a: [1, 'two', null, { deep: true }] },
      empty: {},
      list: [],
      flag: false,
      none: null,
    };

    it('get() returns what the merged record is, whatever the stored key order and spacing', async () => {
      const id = sid();
      const session = storedSession({ keep: { b: 1, a: 2 }, drop: 1, nested: { old: true } });
      await store.set(id, session);
      const read = await store.get(id);
      await store.patch(id, change(session, tricky, ['drop'], read));
      const expected = applyChange(session, change(session, tricky, ['drop'], read));
      expect(await store.get(id)).toEqual(expected);
      // A nested object is replaced whole, not merged into (which json_patch would do).
      expect((await store.get(id))!.nested).toEqual(tricky.nested);
      expect(JSON.parse((await rows())[0]!.data)).toEqual(expected);
    });

    it('deletes a key written as undefined, as JSON.stringify of the merged record would', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1, b: 2 }));
      await store.patch(id, change(storedSession({}), { a: undefined, c: 3 }, [], null));
      expect(dataOf(await store.get(id))).toEqual({ b: 2, c: 3 });
    });

    it('writes and deletes keys that are not safe as a SQLite JSON path, correctly on both', async () => {
      const id = sid();
      const odd = ['a"b', 'a\\b', '', 'a.b', '[0]', '$', 'tab\t', '\ud800', 'x y', '__proto__'];
      const initial = storedSession({ keep: 1 });
      await store.set(id, initial);
      const set = Object.fromEntries(odd.map((key, i) => [key, { i }]));
      await store.patch(id, change(initial, set, [], null));
      let expected: Record<string, unknown> = { keep: 1 };
      for (const key of odd)
        Object.defineProperty(expected, key, { value: { i: odd.indexOf(key) }, enumerable: true });
      expect(dataOf(await store.get(id))).toEqual(expected);
      await store.patch(id, change(initial, { after: true }, odd, null));
      expected = { keep: 1, after: true };
      expect(dataOf(await store.get(id))).toEqual(expected);
    });

    it('merges a change of more keys than one SQLite JSON call takes, in one statement', async () => {
      const id = sid();
      const many = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`k${i}`, i]));
      await store.set(id, storedSession({ ...many, keep: true }));
      const set = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`n${i}`, [i]]));
      const statements = await log.during(() =>
        store.patch(id, change(storedSession({}), set, Object.keys(many), null)),
      );
      expect(statements).toHaveLength(1);
      expect(dataOf(await store.get(id))).toEqual({ keep: true, ...set });
    });

    it('keeps a NUL character: PostgreSQL takes the versioned path for one in a value, and for a record that holds one', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const withNul = await log.during(() =>
        store.patch(id, change(storedSession({}), { nul: 'a\0b' }, [], null)),
      );
      expect(withNul.map((sql) => sql.split(' ')[0])).toEqual(
        database.driver === 'sqlite' ? ['UPDATE'] : ['SELECT', 'UPDATE'],
      );
      // The record now holds a NUL: a plain change still lands, and so do a touch and a delete.
      const touched = storedSession({}, 7_200_000);
      await expect(store.patch(id, change(storedSession({}), { b: 2 }, [], null))).resolves.toBe(
        true,
      );
      // A NUL in a key: versioned on both (on SQLite it is not safe as a path label).
      await expect(
        store.patch(id, change(storedSession({}), { 'k\0': 1 }, [], null)),
      ).resolves.toBe(true);
      await expect(store.touch(id, touched)).resolves.toBe(true);
      await expect(store.patch(id, change(storedSession({}), {}, ['k\0'], null))).resolves.toBe(
        true,
      );
      expect(await store.get(id)).toEqual({ a: 1, nul: 'a\0b', b: 2, cookie: touched.cookie });
      await store.destroy(id);
      await expect(
        store.patch(id, change(storedSession({}), { nul: '\0' }, [], null)),
      ).resolves.toBe(false);
      expect(await rows()).toEqual([]);
    });

    it('50 writers of different keys on one session, each having read it first, all land', async () => {
      const id = sid();
      await store.set(id, storedSession({ untouched: 'yes', other: [1, 2] }));
      const reads = await Promise.all(Array.from({ length: 50 }, () => store.get(id)));
      const results = await Promise.allSettled(
        reads.map((read, i) =>
          store.patch(id, change(storedSession({}), { [`w${i}`]: { i } }, [], read)),
        ),
      );
      expect(results).toEqual(results.map(() => ({ status: 'fulfilled', value: true })));
      const written = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`w${i}`, { i }]));
      expect(dataOf(await store.get(id))).toEqual({ untouched: 'yes', other: [1, 2], ...written });
      expect((await rows())[0]!.version).toBe(51);
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
        store.patch(id, change(storedSession({ circular }), { circular }, [], null)),
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
