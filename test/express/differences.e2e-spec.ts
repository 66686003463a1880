import type express from 'express';
import Redis from 'ioredis';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { RedisStore } from '../../lib/redis';
import { MemoryStore } from '../../lib/stores/memory.store';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { until } from '../support/time';
import {
  appsPerTest,
  BOTH,
  cookieOf,
  CountingStore,
  EXPRESS_SESSION,
  QUIET,
  SECRET,
  sessionRoutes,
  setCookies,
  TESSERA,
  type Library,
} from './support';

type Data = Record<string, unknown>;
type Callback = (err?: unknown) => void;
const dataOf = (req: express.Request) =>
  req.session as unknown as Data & {
    save(callback?: Callback): unknown;
    touch(): unknown;
    regenerate(callback: Callback): unknown;
    destroy(callback?: Callback): unknown;
    cookie: { maxAge: number | null };
  };

/** What each library does, where the two differ on purpose: each test pins one difference. */
const by = <T>(library: Library, expressSession: T, tessera: T): T =>
  library.name === 'express-session' ? expressSession : tessera;

describe.each(BOTH)('%s, where the drop-in differs on purpose', (_name, library) => {
  const start = appsPerTest();
  const stores: MemoryStore[] = [];
  const storeFor = <T extends MemoryStore>(store: T): T => (stores.push(store), store);
  afterEach(() => stores.splice(0).forEach((store) => store.close()));

  it('two concurrent requests changing different keys both keep their change (a per-key patch, not a whole-object set)', async () => {
    const store = storeFor(new MemoryStore({ sweepInterval: 0 }));
    const held = new Map<string, () => void>();
    const arrived = new Map<string, () => void>();
    const arrival = (name: string) => new Promise<void>((resolve) => arrived.set(name, resolve));
    const app = await start(library.session({ ...QUIET, store }), (app) => {
      sessionRoutes(app);
      // Holds the request, its session loaded, until the test lets it change the session.
      app.post('/held/:name', (req, res) => {
        const name = req.params.name!;
        held.set(name, () => {
          Object.assign(req.session, req.body);
          res.json({ ok: true });
        });
        arrived.get(name)!();
      });
    });
    const cookie = cookieOf(await app.http().post('/set').send({ start: 1 }).expect(200));
    const [aHere, bHere] = [arrival('a'), arrival('b')];
    const a = app
      .http()
      .post('/held/a')
      .set('Cookie', cookie)
      .send({ a: 1 })
      .then((r) => r);
    const b = app
      .http()
      .post('/held/b')
      .set('Cookie', cookie)
      .send({ b: 1 })
      .then((r) => r);
    await Promise.all([aHere, bHere]);
    held.get('a')!();
    await a;
    held.get('b')!();
    await b;
    const read = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(read.body.data).toEqual(by(library, { start: 1, b: 1 }, { start: 1, a: 1, b: 1 }));
  });

  it('touchAfter: an unchanged session’s expiry is extended only once a tenth of its life has passed', async () => {
    const store = storeFor(new CountingStore());
    // An hour's life: a touch is due after six minutes, far more than these requests take.
    const app = await start(library.session({ ...QUIET, store, cookie: { maxAge: 3_600_000 } }));
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    store.calls = [];
    for (let i = 0; i < 3; i++) await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(store.count('touch')).toBe(by(library, 3, 0));
    expect(store.count('get')).toBe(3);
  });

  it('a missing secret fails when the middleware is made, not on each request', async () => {
    const quietly = () => undefined;
    // express-session says "req.secret; provide secret option" through depd: heard, not printed.
    process.on('deprecation', quietly);
    try {
      const make = () => library.session({ resave: false, saveUninitialized: false });
      if (library === TESSERA) {
        expect(make).toThrow(TypeError);
        expect(make).toThrow(/^Session option "secret" is required/);
        return;
      }
      const app = await start(make());
      const res = await app.http().get('/read');
      expect(res.status).toBe(500);
      expect(res.text).toContain('secret option required for sessions');
    } finally {
      process.off('deprecation', quietly);
    }
  });

  it('an invalid cookie attribute fails when the middleware is made', async () => {
    const make = () => library.session({ ...QUIET, cookie: { domain: 'not a domain' } });
    if (library === TESSERA) {
      expect(make).toThrow('Session option "cookie.domain" must be a host name');
      return;
    }
    // express-session takes it, and fails at the first cookie it writes.
    const app = await start(make());
    const res = await app.http().post('/set').send({ a: 1 });
    expect(setCookies(res)).toEqual({});
  });

  it('a path that only starts like the cookie path (/application for /app) is outside it', async () => {
    const app = await start(
      library.session({ ...QUIET, saveUninitialized: true, cookie: { path: '/app' } }),
      (app) => {
        app.get('/application/read', (req, res) => res.json({ has: req.session !== undefined }));
      },
    );
    const res = await app.http().get('/application/read').expect(200);
    // express-session made a session there, whose cookie (Path=/app) would replace the one the
    // browser has for /app; the browser would never send it to /application.
    expect(res.body).toEqual({ has: by(library, true, false) });
    expect(Object.keys(setCookies(res))).toEqual(by(library, ['connect.sid'], []));
  });

  it('destroy() clears the cookie', async () => {
    const app = await start(library.session(QUIET), (app) => {
      sessionRoutes(app);
      app.post('/destroy', (req, res, next) =>
        dataOf(req).destroy((err) => (err ? next(err) : res.json({ ok: true }))),
      );
    });
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    const res = await app.http().post('/destroy').set('Cookie', cookie).expect(200);
    const line = setCookies(res)['connect.sid'];
    if (library === EXPRESS_SESSION) expect(line).toBeUndefined();
    else expect(line).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
  });

  it('a cookie signed with an older secret is signed again with the first, on that response', async () => {
    const store = storeFor(new MemoryStore({ sweepInterval: 0 }));
    const app = await start(library.session({ ...QUIET, store, secret: [SECRET, 'old'] }));
    await store.set('rotated', {
      a: 1,
      cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
    });
    const sign = (secret: string) =>
      `connect.sid=${encodeURIComponent(`s:rotated.${createHmac('sha256', secret).update('rotated').digest('base64').replace(/=+$/, '')}`)}`;
    const res = await app.http().get('/read').set('Cookie', sign('old')).expect(200);
    expect(res.body.data).toEqual({ a: 1 });
    expect(setCookies(res)['connect.sid']?.split(';')[0]).toBe(
      by(library, undefined, sign(SECRET)),
    );
  });

  it('a change to the cookie alone (cookie.maxAge) is stored and sent', async () => {
    const app = await start(library.session({ ...QUIET, cookie: { maxAge: 60_000 } }), (app) => {
      sessionRoutes(app);
      app.post('/remember-me', (req, res) => {
        dataOf(req).cookie.maxAge = 30 * 86_400_000;
        res.json({ ok: true });
      });
    });
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    const res = await app.http().post('/remember-me').set('Cookie', cookie).expect(200);
    const line = setCookies(res)['connect.sid'];
    if (library === EXPRESS_SESSION) return expect(line).toBeUndefined();
    const expires = Date.parse(/Expires=([^;]+)/.exec(line!)![1]!);
    expect(expires).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it('the methods also return a Promise (express-session: the session, for chaining)', async () => {
    const app = await start(library.session(QUIET), (app) => {
      app.post('/save', async (req, res) => {
        const session = dataOf(req);
        session.a = 1;
        const returned = session.save();
        const thenable = typeof (returned as { then?: unknown })?.then === 'function';
        if (thenable) await returned;
        res.json({ thenable, touch: session.touch() === session });
      });
    });
    const res = await app.http().post('/save').expect(200);
    expect(res.body).toEqual(
      by(library, { thenable: false, touch: true }, { thenable: true, touch: false }),
    );
  });
});

describe('when the store fails', () => {
  let server: RedisServer;
  let client: Redis;
  const start = appsPerTest();
  let errors: unknown[][];
  let spy: jest.SpyInstance;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    await once(client, 'ready');
  });
  afterAll(async () => {
    client.disconnect();
    await server.dispose();
  });
  beforeEach(() => {
    errors = [];
    spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args);
    });
  });
  afterEach(async () => {
    spy.mockRestore();
    if (server.pid === undefined) {
      await server.restart();
      if (client.status !== 'ready') await once(client, 'ready');
    }
  });

  describe.each(BOTH)('%s', (_name, library) => {
    let held: () => void;
    let arrived: () => void;
    /** An app on RedisStore with a stored session, and then (unless told) Redis stopped. */
    const outage = async ({ stop = true } = {}) => {
      const store = new RedisStore({ client });
      const app = await start(library.session({ ...QUIET, store }), (app) => {
        sessionRoutes(app);
        // Holds the request, its session loaded, until the test lets it destroy the session
        // without a callback, as code written for express-session does.
        app.post('/destroy-and-forget', (req, res) => {
          held = () => {
            void dataOf(req).destroy();
            res.json({ ok: true });
          };
          arrived();
        });
      });
      const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
      if (stop) await server.stop();
      return { app, cookie };
    };

    it('a session that cannot be loaded answers 503 (express-session: next(err), a 500)', async () => {
      const { app, cookie } = await outage();
      const res = await app.http().get('/read').set('Cookie', cookie);
      expect(res.status).toBe(by(library, 500, 503));
    });

    it('a write that fails answers 503 (express-session: the response goes out as if it had worked)', async () => {
      const { app } = await outage();
      const res = await app.http().post('/set').send({ b: 1 });
      expect(res.status).toBe(by(library, 200, 503));
    });

    if (library === TESSERA) {
      it('a destroy() called without a callback that fails gives a 503 and is logged, not an unhandled rejection', async () => {
        const { app, cookie } = await outage({ stop: false });
        const here = new Promise<void>((resolve) => (arrived = resolve));
        const response = app
          .http()
          .post('/destroy-and-forget')
          .set('Cookie', cookie)
          .then((r) => r);
        await here;
        await server.stop();
        held();
        // The response waits for the destroy it was not told about, and a logout the store did
        // not take is not answered as done; the ignored Promise is logged, not left unhandled.
        expect((await response).status).toBe(503);
        const failed = 'Session destroy() failed (called without a callback)';
        await until('the failed destroy() to be logged', () =>
          errors.some((args) => String(args[0]).includes(failed)),
        );
      });
    }
  });
});
