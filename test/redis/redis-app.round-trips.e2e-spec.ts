import { RedisStore as ConnectRedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient, type RedisClientType } from 'redis';
import request from 'supertest';
import { SCRIPTS } from '../../lib/redis/redis.scripts';
import { sessionCookie, setCookies } from '../support/app';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { sleep } from '../support/time';
import {
  CLIENT_KINDS,
  CLIENT_PLATFORMS,
  RedisProbe,
  useRedisApp,
  type RedisApp,
} from './redis-app.support';

// The budget of issue 3, measured on a real redis-server through the whole Nest app: commandstats
// counts the commands a Lua script runs as well, so MONITOR tells the round trips (`sent`) from
// what the script did inside Redis (`scripted`).

const TOUCH_AFTER = 1_000;
/** Measured patches find their script cached, as every patch but the first after a restart. */
function cachePatchScript(env: RedisApp): void {
  beforeAll(async () => {
    await env.probe.admin.call('SCRIPT', 'LOAD', SCRIPTS.patch[0]);
  });
}

describe.each(CLIENT_PLATFORMS)('Redis round trips per request (%s, %s)', (kind, platform) => {
  const options = { ignore: ['/none'], touchAfter: TOUCH_AFTER };
  const env = useRedisApp({ kind, platform, probe: true, options });
  cachePatchScript(env);

  const signIn = async () =>
    sessionCookie(await env.t.http().post('/set').send({ user: 'ada' }).expect(200));
  const idOf = async (cookie: string) =>
    (await env.t.http().get('/read').set('Cookie', cookie).expect(200)).body.id as string;
  const stored = async (id: string) => JSON.parse((await env.probe.admin.get(`sess:${id}`))!);

  it('a request without a session cookie sends nothing to Redis', async () => {
    const measured = await env.probe.measure(async () => {
      await env.t.http().get('/read').expect(200);
      await env.t.http().get('/none').expect(200);
    });
    expect(measured).toEqual({ stats: {}, sent: [], scripted: [] });
  });

  it('an ignored path sends nothing to Redis, even with a session cookie', async () => {
    const cookie = await signIn();
    const measured = await env.probe.measure(() =>
      env.t.http().get('/none').set('Cookie', cookie).expect(200),
    );
    expect(measured).toEqual({ stats: {}, sent: [], scripted: [] });
  });

  it('an unchanged session costs one GET, and no write', async () => {
    const cookie = await signIn();
    let res: { headers: Record<string, unknown>; body: { data: unknown } } | undefined;
    const measured = await env.probe.measure(async () => {
      res = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
    });
    expect(measured).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
    expect(res!.body.data).toEqual({ user: 'ada' });
    expect(setCookies(res!)).toEqual({});
  });

  it('a changed session costs its GET and one EVALSHA, which runs a GET and a SET inside Redis', async () => {
    const cookie = await signIn();
    const id = await idOf(cookie);
    const measured = await env.probe.measure(() =>
      env.t
        .http()
        .post('/set')
        .set('Cookie', cookie)
        .send({ cart: [1] })
        .expect(200),
    );
    expect(measured).toEqual({
      stats: { get: 2, evalsha: 1, set: 1 },
      sent: ['get', 'evalsha'],
      scripted: ['get', 'set'],
    });
    expect(await stored(id)).toEqual({ user: 'ada', cart: [1], cookie: expect.any(Object) });
  });

  it('a new session costs one SET', async () => {
    let cookie = '';
    const measured = await env.probe.measure(async () => {
      cookie = sessionCookie(await env.t.http().post('/set').send({ user: 'new' }).expect(200));
    });
    expect(measured).toEqual({ stats: { set: 1 }, sent: ['set'], scripted: [] });
    expect(await stored(await idOf(cookie))).toEqual(expect.objectContaining({ user: 'new' }));
  });

  it('an unchanged session is touched (one EVALSHA) only once touchAfter has passed', async () => {
    const cookie = await signIn();
    const id = await idOf(cookie);
    const before = await stored(id);
    await sleep(TOUCH_AFTER + 100);
    const touched = await env.probe.measure(() => env.t.http().get('/read').set('Cookie', cookie));
    expect(touched).toEqual({
      stats: { get: 2, evalsha: 1, set: 1 },
      sent: ['get', 'evalsha'],
      scripted: ['get', 'set'],
    });
    const after = await stored(id);
    expect(Date.parse(after.cookie.expires)).toBeGreaterThan(Date.parse(before.cookie.expires));
    expect(after.user).toBe('ada');
    // The touch reset the clock: the next unchanged read is one GET again.
    const next = await env.probe.measure(() => env.t.http().get('/read').set('Cookie', cookie));
    expect(next).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
  });

  it('a login (regenerate, then write) costs the GET, a DEL of the old key and a SET of the new', async () => {
    const cookie = await signIn();
    let ids = { before: '', after: '' };
    const measured = await env.probe.measure(async () => {
      const res = await env.t.http().post('/login').set('Cookie', cookie).send({ user: 'bob' });
      ids = res.body;
    });
    expect(measured).toEqual({
      stats: { get: 1, del: 1, set: 1 },
      sent: ['get', 'del', 'set'],
      scripted: [],
    });
    expect(ids.after).not.toBe(ids.before);
    expect(await env.probe.admin.exists(`sess:${ids.before}`)).toBe(0);
    expect(await stored(ids.after)).toEqual(expect.objectContaining({ user: 'bob' }));
  });

  it('a logout costs the GET and a DEL', async () => {
    const cookie = await signIn();
    const id = await idOf(cookie);
    const measured = await env.probe.measure(() =>
      env.t.http().post('/logout').set('Cookie', cookie).expect(200),
    );
    expect(measured).toEqual({ stats: { get: 1, del: 1 }, sent: ['get', 'del'], scripted: [] });
    expect(await env.probe.admin.exists(`sess:${id}`)).toBe(0);
  });

  it('the first patch after Redis lost its scripts costs one more round trip (NOSCRIPT, then EVAL)', async () => {
    const cookie = await signIn();
    await env.probe.admin.call('SCRIPT', 'FLUSH');
    try {
      const measured = await env.probe.measure(() =>
        env.t.http().post('/set').set('Cookie', cookie).send({ n: 1 }).expect(200),
      );
      expect(measured).toEqual({
        stats: { get: 2, evalsha: 1, eval: 1, set: 1 },
        sent: ['get', 'evalsha', 'eval'],
        scripted: ['get', 'set'],
      });
      // Cached again by that EVAL: the next patch is one EVALSHA.
      const next = await env.probe.measure(() =>
        env.t.http().post('/set').set('Cookie', cookie).send({ n: 2 }).expect(200),
      );
      expect(next.sent).toEqual(['get', 'evalsha']);
    } finally {
      await env.probe.admin.call('SCRIPT', 'LOAD', SCRIPTS.patch[0]);
    }
  });
});

describe.each(CLIENT_KINDS)('Redis round trips with the per-user index on (%s)', (kind) => {
  const userId = (session: { user?: unknown }) => session.user as string | undefined;
  const env = useRedisApp({ kind, probe: true, options: { touchAfter: TOUCH_AFTER, userId } });
  // Measured writes find every script cached, the index's included.
  beforeAll(async () => {
    for (const [lua] of Object.values(SCRIPTS)) await env.probe.admin.call('SCRIPT', 'LOAD', lua);
  });

  const signIn = async () =>
    sessionCookie(await env.t.http().post('/set').send({ user: 'ada' }).expect(200));
  const indexed = (user: string) => env.probe.admin.zrange(`sess:~user:${user}`, 0, -1);

  // On standalone Redis the index is written by the script that writes the session: no round
  // trip is added anywhere, only the commands that script runs inside Redis.
  it('a new session of a user costs one EVALSHA, which writes the session and its index', async () => {
    let id = '';
    const measured = await env.probe.measure(async () => {
      id = (await env.t.http().post('/set').send({ user: 'ada' }).expect(200)).body.id;
    });
    expect(measured.sent).toEqual(['evalsha']);
    expect(measured.scripted).toEqual(expect.arrayContaining(['set', 'zadd', 'pexpire']));
    expect(await indexed('ada')).toContain(id);
  });

  it('an unchanged session of a user costs one GET', async () => {
    const cookie = await signIn();
    const measured = await env.probe.measure(() =>
      env.t.http().get('/read').set('Cookie', cookie).expect(200),
    );
    expect(measured).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
  });

  it('a changed session of a user costs its GET and one EVALSHA', async () => {
    const cookie = await signIn();
    const measured = await env.probe.measure(() =>
      env.t
        .http()
        .post('/set')
        .set('Cookie', cookie)
        .send({ cart: [1] })
        .expect(200),
    );
    expect(measured.sent).toEqual(['get', 'evalsha']);
  });

  it('a login (regenerate, then write) costs the GET, a DEL of the old key and one EVALSHA', async () => {
    const cookie = await signIn();
    let ids = { before: '', after: '' };
    const measured = await env.probe.measure(async () => {
      const res = await env.t.http().post('/login').set('Cookie', cookie).send({ user: 'bob' });
      ids = res.body;
    });
    expect(measured.sent).toEqual(['get', 'del', 'evalsha']);
    expect(await indexed('bob')).toContain(ids.after);
  });

  it('a session without a user costs what it does without the index', async () => {
    const measured = await env.probe.measure(() =>
      env.t
        .http()
        .post('/set')
        .send({ cart: [1] })
        .expect(200),
    );
    expect(measured).toEqual({ stats: { set: 1 }, sent: ['set'], scripted: [] });
  });
});

describe('Redis round trips of a browser-session cookie (cookie.maxAge: null)', () => {
  const env = useRedisApp({ kind: 'ioredis', probe: true, options: { cookie: { maxAge: null } } });
  cachePatchScript(env);

  // A browser-session cookie has no expiry to throttle on: the core stores when it last set the
  // store's expiry (cookie.touchedAt), so touchAfter holds for these sessions too.
  it('an unchanged session costs one GET', async () => {
    const cookie = sessionCookie(await env.t.http().post('/set').send({ user: 'ada' }).expect(200));
    const measured = await env.probe.measure(() =>
      env.t.http().get('/read').set('Cookie', cookie).expect(200),
    );
    expect(measured).toEqual({ stats: { get: 1 }, sent: ['get'], scripted: [] });
  });
});

describe('for comparison: express-session with connect-redis (node-redis)', () => {
  let server: RedisServer;
  let probe: RedisProbe;
  let client: RedisClientType;

  beforeAll(async () => {
    server = await startRedisServer();
    probe = await RedisProbe.start(server);
    client = createClient({ socket: { host: server.host, port: server.port } });
    client.on('error', () => undefined);
    await client.connect();
  });

  afterAll(async () => {
    client?.destroy();
    await probe?.close();
    await server?.dispose();
  });

  it('spends two commands on an unchanged session: GET, then EXPIRE (its touch)', async () => {
    const web = express();
    const store = new ConnectRedisStore({ client });
    web.use(session({ store, secret: 'keyboard cat', resave: false, saveUninitialized: false }));
    web.post('/set', (req, res) => {
      (req.session as unknown as { user: string }).user = 'ada';
      res.json({ ok: true });
    });
    web.get('/read', (req, res) => res.json({ user: (req.session as { user?: string }).user }));
    const cookie = sessionCookie(await request(web).post('/set').expect(200));
    const measured = await probe.measure(() =>
      request(web).get('/read').set('Cookie', cookie).expect(200, { user: 'ada' }),
    );
    expect(measured).toEqual({
      stats: { get: 1, expire: 1 },
      sent: ['get', 'expire'],
      scripted: [],
    });
  });
});
