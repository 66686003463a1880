import type express from 'express';
import { createHmac } from 'node:crypto';
import { MemoryStore } from '../../lib/stores/memory.store';
import {
  appsPerTest,
  attributesOf,
  BOTH,
  cookieOf,
  CountingStore,
  idOf,
  QUIET,
  sessionRoutes,
  setCookies,
  TESSERA,
} from './support';

/**
 * express-session's options, as its README documents them, run against express-session itself
 * and against `@tessera/session/express`: each test asserts what the two libraries share. (The
 * defaults of `resave` and `saveUninitialized`, with their warnings, are in
 * default-options.e2e-spec.ts: they run in a process of their own.)
 */
describe.each(BOTH)('%s: the options', (_name, library) => {
  const start = appsPerTest();
  const stores: MemoryStore[] = [];
  const storeFor = <T extends MemoryStore>(store: T): T => (stores.push(store), store);
  afterEach(() => stores.splice(0).forEach((store) => store.close()));

  describe('cookie', () => {
    it('defaults to { path: "/", httpOnly: true, secure: false, maxAge: null }', async () => {
      const app = await start(library.session(QUIET));
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      const line = setCookies(res)['connect.sid']!;
      expect(attributesOf(line)).toEqual(['HttpOnly', 'Path=/']);
      expect(line).not.toContain('Expires=');
      const read = await app.http().get('/read').set('Cookie', cookieOf(res)).expect(200);
      expect(read.body.json.cookie).toMatchObject({
        originalMaxAge: null,
        expires: null,
        httpOnly: true,
        path: '/',
      });
    });

    it('sets domain, path, httpOnly, sameSite, partitioned and priority as given', async () => {
      const app = await start(
        library.session({
          ...QUIET,
          cookie: {
            path: '/',
            domain: 'example.test',
            httpOnly: false,
            sameSite: 'strict',
            partitioned: true,
            priority: 'high',
          },
        }),
      );
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(attributesOf(setCookies(res)['connect.sid']!)).toEqual([
        'Domain=example.test',
        'Partitioned',
        'Path=/',
        'Priority=High',
        'SameSite=Strict',
      ]);
    });

    it.each([
      [true, ['SameSite=Strict']],
      ['lax', ['SameSite=Lax']],
      ['strict', ['SameSite=Strict']],
      ['none', ['SameSite=None']],
      [false, []],
      // 'auto': Lax over plain HTTP (None when secure: see below).
      ['auto', ['SameSite=Lax']],
    ])('sameSite: %p', async (sameSite, attributes) => {
      const app = await start(library.session({ ...QUIET, cookie: { sameSite } }));
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(attributesOf(setCookies(res)['connect.sid']!)).toEqual(
        ['HttpOnly', 'Path=/', ...attributes].sort(),
      );
    });

    it('maxAge: the cookie expires that many ms from now, and keeps it as originalMaxAge', async () => {
      const app = await start(library.session({ ...QUIET, cookie: { maxAge: 60_000 } }));
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      const expires = Date.parse(/Expires=([^;]+)/.exec(setCookies(res)['connect.sid']!)![1]!);
      expect(Math.abs(expires - (Date.now() + 60_000))).toBeLessThan(5_000);
      const read = await app.http().get('/read').set('Cookie', cookieOf(res)).expect(200);
      expect(read.body.json.cookie.originalMaxAge).toBe(60_000);
    });

    it('expires: a fixed date; of it and maxAge, the one given last counts', async () => {
      const date = new Date(Date.now() + 86_400_000);
      const expiresOf = async (cookie: object) => {
        const app = await start(library.session({ ...QUIET, cookie }));
        const res = await app.http().post('/set').send({ a: 1 }).expect(200);
        return /Expires=([^;]+)/.exec(setCookies(res)['connect.sid']!)?.[1];
      };
      expect(await expiresOf({ expires: date })).toBe(date.toUTCString());
      expect(await expiresOf({ maxAge: 60_000, expires: date })).toBe(date.toUTCString());
      const byMaxAge = await expiresOf({ expires: date, maxAge: 60_000 });
      expect(Math.abs(Date.parse(byMaxAge!) - (Date.now() + 60_000))).toBeLessThan(5_000);
      expect(await expiresOf({ maxAge: 60_000, expires: null })).toBeUndefined();
    });

    it('a function of the request gives each request its cookie options', async () => {
      const app = await start(
        library.session({
          ...QUIET,
          cookie: (req: express.Request) => ({
            path: `/${req.url.split('/')[1]}`,
            maxAge: req.url.startsWith('/long') ? 3_600_000 : null,
          }),
        }),
        (app) => {
          app.post('/:area/set', (req, res) => {
            Object.assign(req.session, req.body);
            res.json({ id: req.sessionID });
          });
        },
      );
      const short = setCookies(await app.http().post('/short/set').send({ a: 1 }).expect(200));
      const long = setCookies(await app.http().post('/long/set').send({ a: 1 }).expect(200));
      expect(attributesOf(short['connect.sid']!)).toEqual(['HttpOnly', 'Path=/short']);
      expect(short['connect.sid']).not.toContain('Expires=');
      expect(attributesOf(long['connect.sid']!)).toEqual(['HttpOnly', 'Path=/long']);
      expect(long['connect.sid']).toContain('Expires=');
    });
  });

  describe('cookie.secure and proxy', () => {
    // Tessera says in the log that it did not send the cookie: heard here, tested below.
    let warn: jest.SpyInstance;
    beforeEach(() => (warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)));
    afterEach(() => warn.mockRestore());

    const secureApp = (proxy: boolean | undefined, trustProxy: boolean) => {
      const store = storeFor(new MemoryStore());
      return start(
        library.session({ ...QUIET, store, proxy, cookie: { secure: true } }),
        sessionRoutes,
        (app) => app.set('trust proxy', trustProxy),
      ).then((app) => ({ app, store }));
    };

    it.each([
      ['proxy: true reads X-Forwarded-Proto', true, false, true],
      ["proxy: undefined follows Express's trust proxy", undefined, true, true],
      ['proxy: undefined, no trust proxy: not secure', undefined, false, false],
      ['proxy: false ignores the header, whatever trust proxy says', false, true, false],
    ])(
      '%s: a Secure cookie is set only over HTTPS; the session is saved either way',
      async (_what, proxy, trustProxy, sent) => {
        const { app, store } = await secureApp(proxy, trustProxy);
        const res = await app
          .http()
          .post('/set')
          .set('X-Forwarded-Proto', 'https')
          .send({ a: 1 })
          .expect(200);
        const line = setCookies(res)['connect.sid'];
        if (sent) expect(line).toContain('; Secure');
        else expect(line).toBeUndefined();
        expect(await store.length()).toBe(1);
      },
    );

    it('a Secure cookie is not set over plain HTTP', async () => {
      const { app, store } = await secureApp(undefined, false);
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(setCookies(res)).toEqual({});
      expect(Object.values(await store.all()).map((record) => record.a)).toEqual([1]);
    });

    it("secure: 'auto' is Secure over HTTPS only, and sameSite: 'auto' None there, Lax elsewhere", async () => {
      const app = await start(
        library.session({ ...QUIET, proxy: true, cookie: { secure: 'auto', sameSite: 'auto' } }),
      );
      const https = await app
        .http()
        .post('/set')
        .set('X-Forwarded-Proto', 'https')
        .send({ a: 1 })
        .expect(200);
      const http = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(attributesOf(setCookies(https)['connect.sid']!)).toEqual([
        'HttpOnly',
        'Path=/',
        'SameSite=None',
        'Secure',
      ]);
      expect(attributesOf(setCookies(http)['connect.sid']!)).toEqual([
        'HttpOnly',
        'Path=/',
        'SameSite=Lax',
      ]);
    });
  });

  it('genid: new session ids come from the function, which is given the request', async () => {
    let n = 0;
    const app = await start(
      library.session({
        ...QUIET,
        genid: (req: express.Request) => `id-${String(req.headers['x-user'])}-${++n}`,
      }),
    );
    const res = await app.http().post('/set').set('X-User', 'ada').send({ a: 1 }).expect(200);
    expect(res.body.id).toBe('id-ada-1');
    expect(idOf(cookieOf(res))).toBe('id-ada-1');
  });

  it('name: the cookie the session is set in and read from', async () => {
    const app = await start(library.session({ ...QUIET, name: 'app.sid' }));
    const browser = app.browser();
    const res = await browser.post('/set').send({ a: 1 }).expect(200);
    expect(Object.keys(setCookies(res))).toEqual(['app.sid']);
    expect((await browser.get('/read').expect(200)).body.data).toEqual({ a: 1 });
    const other = await app
      .http()
      .get('/read')
      .set('Cookie', `connect.sid=${cookieOf(res, 'app.sid').split('=')[1]}`);
    expect(other.body.data).toEqual({});
  });

  describe('resave', () => {
    it.each([
      [true, 2],
      [false, 0],
    ])(
      'resave: %p writes an unchanged session back on every request (%p writes)',
      async (resave, writes) => {
        const store = storeFor(new CountingStore());
        const app = await start(
          library.session({ ...QUIET, store, resave, cookie: { maxAge: 60_000 } }),
        );
        const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
        store.calls = [];
        for (let i = 0; i < 2; i++) {
          const res = await app.http().get('/read').set('Cookie', cookie).expect(200);
          // A write of an unchanged session sends no cookie: only rolling does that.
          expect(setCookies(res)).toEqual({});
        }
        expect(store.writes()).toBe(writes);
      },
    );
  });

  describe('rolling', () => {
    it.each([
      [true, true],
      [false, false],
    ])('rolling: %p sends the cookie on every response: %p', async (rolling, sent) => {
      const app = await start(library.session({ ...QUIET, rolling, cookie: { maxAge: 60_000 } }));
      const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
      const res = await app.http().get('/read').set('Cookie', cookie).expect(200);
      expect(Object.keys(setCookies(res))).toEqual(sent ? ['connect.sid'] : []);
      if (sent) expect(cookieOf(res)).toBe(cookie);
    });

    it('with saveUninitialized: false, sends no cookie for a new, uninitialized session', async () => {
      const app = await start(library.session({ ...QUIET, rolling: true }));
      expect(setCookies(await app.http().get('/read').expect(200))).toEqual({});
    });
  });

  describe('saveUninitialized', () => {
    it('true: a new session is saved and gets its cookie, even when nothing read it', async () => {
      const store = storeFor(new MemoryStore());
      const app = await start(library.session({ ...QUIET, store, saveUninitialized: true }));
      const res = await app.http().get('/touch-nothing').expect(200);
      expect(Object.keys(setCookies(res))).toEqual(['connect.sid']);
      expect(await store.ids()).toEqual([idOf(cookieOf(res))]);
    });

    it('false: a new session nothing was stored in is neither saved nor sent', async () => {
      const store = storeFor(new MemoryStore());
      const app = await start(library.session({ ...QUIET, store }));
      expect(setCookies(await app.http().get('/touch-nothing').expect(200))).toEqual({});
      expect(setCookies(await app.http().get('/read').expect(200))).toEqual({});
      expect(await store.length()).toBe(0);
    });
  });

  describe('secret', () => {
    const sign = (id: string, secret: string) =>
      `connect.sid=${encodeURIComponent(`s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`)}`;

    it('signs the cookie with the first of an array; every one verifies', async () => {
      const store = storeFor(new MemoryStore());
      const app = await start(library.session({ ...QUIET, store, secret: ['new', 'old'] }));
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(cookieOf(res)).toBe(sign(res.body.id, 'new'));
      const old = await app.http().get('/read').set('Cookie', sign(res.body.id, 'old')).expect(200);
      expect(old.body).toMatchObject({ id: res.body.id, data: { a: 1 } });
      const forged = await app.http().get('/read').set('Cookie', sign(res.body.id, 'other'));
      expect(forged.body.data).toEqual({});
      expect(forged.body.id).not.toBe(res.body.id);
    });
  });

  it('store: sessions live in the store given', async () => {
    const store = storeFor(new MemoryStore());
    const app = await start(library.session({ ...QUIET, store }));
    const res = await app.http().post('/set').send({ a: 1 }).expect(200);
    const record = (await store.get(res.body.id))!;
    expect(record.a).toBe(1);
    expect(record.cookie).toMatchObject({ originalMaxAge: null, httpOnly: true, path: '/' });
  });

  describe('unset', () => {
    const unsetRoutes = (app: express.Express) => {
      sessionRoutes(app);
      app.post('/change-then-unset/:how', (req, res) => {
        (req.session as unknown as Record<string, unknown>).a = 2;
        const request = req as { session?: unknown };
        if (req.params.how === 'delete') delete request.session;
        else request.session = null;
        res.json({ ok: true });
      });
    };
    const startWith = async (unset?: 'keep' | 'destroy') => {
      const store = storeFor(new MemoryStore());
      const app = await start(library.session({ ...QUIET, store, unset }), unsetRoutes);
      const made = await app.http().post('/set').send({ a: 1 }).expect(200);
      return { app, store, cookie: cookieOf(made), id: made.body.id as string };
    };

    it.each([
      ['delete', undefined],
      ['null', undefined],
      ['delete', 'keep'],
      ['null', 'keep'],
    ] as const)(
      "removing req.session (%s) with unset: %p ('keep') keeps the stored session and drops the change",
      async (how, unset) => {
        const { app, store, cookie, id } = await startWith(unset);
        const res = await app
          .http()
          .post(`/change-then-unset/${how}`)
          .set('Cookie', cookie)
          .expect(200);
        expect(setCookies(res)).toEqual({});
        expect((await store.get(id))?.a).toBe(1);
      },
    );

    it.each(['delete', 'null'])(
      "removing req.session (%s) with unset: 'destroy' destroys the session",
      async (how) => {
        const { app, store, cookie, id } = await startWith('destroy');
        await app.http().post(`/change-then-unset/${how}`).set('Cookie', cookie).expect(200);
        expect(await store.get(id)).toBeNull();
        expect((await app.http().get('/read').set('Cookie', cookie)).body.data).toEqual({});
      },
    );

    it("unset: 'destroy' leaves a session whose req.session stays alone", async () => {
      const { app, store, cookie, id } = await startWith('destroy');
      await app.http().get('/read').set('Cookie', cookie).expect(200);
      expect((await store.get(id))?.a).toBe(1);
    });

    it('anything else is refused when the middleware is made', () => {
      expect(() => library.session({ ...QUIET, unset: 'forget' })).toThrow(TypeError);
    });
  });
});

describe('tessera: the Secure cookie it does not send over plain HTTP', () => {
  const start = appsPerTest();
  let warnings: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    warnings = [];
    spy = jest.spyOn(console, 'warn').mockImplementation((message: string) => {
      warnings.push(message);
    });
  });
  afterEach(() => spy.mockRestore());

  it('is said once in the log, with how to fix it', async () => {
    const app = await start(TESSERA.session({ ...QUIET, cookie: { secure: true } }));
    await app.http().post('/set').send({ a: 1 }).expect(200);
    await app.http().post('/set').send({ b: 1 }).expect(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Secure attribute was not sent');
    expect(warnings[0]).toContain('the session was saved');
    expect(warnings[0]).toContain("app.set('trust proxy', 1)");
    expect(warnings[0]).toContain('proxy: true');
  });

  it('and is not said when the cookie goes out over HTTPS', async () => {
    const app = await start(TESSERA.session({ ...QUIET, proxy: true, cookie: { secure: true } }));
    await app.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }).expect(200);
    expect(warnings).toEqual([]);
  });
});

describe('the request: what both libraries do before the session', () => {
  describe.each(BOTH)('%s', (_name, library) => {
    const start = appsPerTest();

    it('a request outside the cookie path has no session, no cookie, no req.sessionStore', async () => {
      const store = new MemoryStore();
      const app = await start(
        library.session({ ...QUIET, store, saveUninitialized: true, cookie: { path: '/app' } }),
        (app) => {
          for (const prefix of ['/app', '/other']) {
            app.get(`${prefix}/read`, (req, res) =>
              res.json({
                has: req.session !== undefined,
                id: req.sessionID ?? null,
                store: (req as { sessionStore?: unknown }).sessionStore !== undefined,
              }),
            );
          }
        },
      );
      const outside = await app.http().get('/other/read').expect(200);
      expect(outside.body).toEqual({ has: false, id: null, store: false });
      expect(setCookies(outside)).toEqual({});
      const inside = await app.http().get('/app/read').expect(200);
      expect(inside.body).toEqual({ has: true, id: expect.any(String), store: true });
      expect(attributesOf(setCookies(inside)['connect.sid']!)).toEqual(['HttpOnly', 'Path=/app']);
      expect(await store.length()).toBe(1);
      store.close();
    });

    it('a req.session that an earlier middleware set is kept, and nothing is stored', async () => {
      const store = new MemoryStore();
      const preset: express.RequestHandler = (req, _res, next) => {
        (req as { session?: unknown }).session = { preset: true };
        next();
      };
      const app = await start([
        preset,
        library.session({ ...QUIET, store, saveUninitialized: true }),
      ]);
      const res = await app.http().post('/set').send({ a: 1 }).expect(200);
      expect(setCookies(res)).toEqual({});
      const read = await app.http().get('/read').expect(200);
      expect(read.body).toMatchObject({ data: { preset: true }, store: false });
      expect(await store.length()).toBe(0);
      store.close();
    });
  });
});

describe("tessera: Tessera's own options, beside express-session's", () => {
  const start = appsPerTest();

  it('touchAfter: 0 extends an unchanged session’s expiry on every request, as express-session does', async () => {
    const store = new CountingStore();
    const app = await start(TESSERA.session({ ...QUIET, store, touchAfter: 0 }));
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    store.calls = [];
    for (let i = 0; i < 3; i++) await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(store.count('touch')).toBe(3);
    store.close();
  });

  it('header: the session id also travels in a header', async () => {
    const app = await start(TESSERA.session({ ...QUIET, header: 'X-Session' }));
    const made = await app.http().post('/set').send({ a: 1 }).expect(200);
    const token = made.headers['x-session'] as string;
    expect(decodeURIComponent(cookieOf(made).split('=')[1]!)).toBe(token);
    const read = await app.http().get('/read').set('X-Session', token).expect(200);
    expect(read.body.data).toEqual({ a: 1 });
  });

  it.each([
    ['idleTimeout', { idleTimeout: -1 }],
    ['absoluteTimeout', { absoluteTimeout: 'soon' }],
    ['storeTimeout', { storeTimeout: 0 }],
    ['touchAfter', { touchAfter: -5 }],
  ])('%s is checked when the middleware is made', (option, given) => {
    expect(() => TESSERA.session({ ...QUIET, ...given })).toThrow(
      new RegExp(`^Session option "${option}" must be`),
    );
  });
});
