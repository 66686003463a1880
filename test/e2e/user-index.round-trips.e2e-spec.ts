import { RedisStore } from '../../lib/redis';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { SessionController } from '../src/session.controller';
import { CLIENT_PLATFORMS, useRedisApp } from '../redis/redis-app.support';
import { bothDatabases, StatementLog } from '../typeorm/databases';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';

// The per-user index costs writes, never reads: with the `userId` option on, an unchanged
// session is still read with one command. Counted as the stores' own round-trip suites count
// them (test/redis/redis-app.round-trips.e2e-spec.ts, test/typeorm/typeorm.module.e2e-spec.ts).

const userId = (session: { user?: string }) => session.user;
/** Long enough that no read in these tests is due a touch. */
const TOUCH_AFTER = 600_000;

describe.each(CLIENT_PLATFORMS)('Redis round trips with userId on (%s, %s)', (kind, platform) => {
  const env = useRedisApp({
    kind,
    platform,
    probe: true,
    options: { userId, touchAfter: TOUCH_AFTER },
  });

  const signIn = async (data: object) =>
    sessionCookie(await env.t.http().post('/set').send(data).expect(200));
  const idOf = async (cookie: string) =>
    (await env.t.http().get('/read').set('Cookie', cookie).expect(200)).body.id as string;
  /** The ids the user's index lists, read by a store of its own on the same Redis. */
  const indexed = async (user: string) =>
    (await new RedisStore({ client: env.redis.client }).findByUser(user)).map((entry) => entry.id);

  it('an unchanged read of a signed-in session costs one GET, and no write', async () => {
    const cookie = await signIn({ user: 'ada' });
    let res: { headers: Record<string, unknown>; body: { data: unknown } } | undefined;
    const measured = await env.probe.measure(async () => {
      res = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
    });
    expect(measured).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
    expect(res!.body.data).toEqual({ user: 'ada' });
    expect(setCookies(res!)).toEqual({});
  });

  it('an unchanged read of a session nobody signed in to costs one GET', async () => {
    const cookie = await signIn({ theme: 'dark' });
    const measured = await env.probe.measure(() =>
      env.t.http().get('/read').set('Cookie', cookie).expect(200),
    );
    expect(measured).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
  });

  it('a change to a signed-in session costs its GET and one more command, the index included', async () => {
    const cookie = await signIn({ user: 'ada' });
    // The first change loads the script, should Redis not have it yet.
    await env.t.http().post('/set').set('Cookie', cookie).send({ n: 0 }).expect(200);
    const measured = await env.probe.measure(() =>
      env.t.http().post('/set').set('Cookie', cookie).send({ n: 1 }).expect(200),
    );
    expect(measured.sent).toEqual(['get', 'evalsha']);
    expect(await indexed('ada')).toContain(await idOf(cookie));
  });

  it('a new session with a user costs one command, which indexes it', async () => {
    let cookie = '';
    // As above: the first write of a session with a user may load its script.
    await signIn({ user: 'warm-up' });
    const measured = await env.probe.measure(async () => {
      cookie = await signIn({ user: 'ada' });
    });
    expect(measured.sent).toHaveLength(1);
    expect(await indexed('ada')).toContain(await idOf(cookie));
  });
});

describe.each(bothDatabases())('TypeORM statements with userId on (%s)', (_name, database) => {
  describe.each(PLATFORMS)('on %s', (platform) => {
    const log = new StatementLog();
    let t: TestApp;
    let close: () => Promise<void>;

    beforeEach(async () => {
      const dataSource = await database.open({ entities: [SessionEntity], logger: log });
      const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
      t = await startApp({ store, userId, touchAfter: TOUCH_AFTER }, [SessionController], {
        platform,
      });
      close = async () => {
        await t.close();
        await store.close();
        await dataSource.destroy();
      };
    });
    afterEach(() => close());

    const verb = (sql: string) => sql.trimStart().split(/\s/)[0]!.toUpperCase();

    it('an unchanged read of a signed-in session is one SELECT by primary key', async () => {
      const cookie = sessionCookie(await t.http().post('/set').send({ user: 'ada' }).expect(200));
      const statements = await log.during(() =>
        t.http().get('/read').set('Cookie', cookie).expect(200),
      );
      expect(statements.map(verb)).toEqual(['SELECT']);
      expect(statements[0]).toMatch(/WHERE .*"id" = /);
      expect(statements[0]).not.toMatch(/user/i);
    });

    it('a change to a signed-in session is its SELECT and one UPDATE, which sets the user column too', async () => {
      const cookie = sessionCookie(await t.http().post('/set').send({ user: 'ada' }).expect(200));
      const statements = await log.during(() =>
        t.http().post('/set').set('Cookie', cookie).send({ user: 'bob' }).expect(200),
      );
      expect(statements.map(verb)).toEqual(['SELECT', 'UPDATE']);
      expect(statements[1]).toMatch(/"user_id"/);
    });
  });
});
