import type express from 'express';
import type { StoredSession } from '../../lib/core/stored-session';
import { MemoryStore } from '../../lib/stores/memory.store';
import {
  appsPerTest,
  BOTH,
  cookieOf,
  idOf,
  QUIET,
  SECRET,
  sessionRoutes,
  setCookies,
  withoutCookie,
} from './support';
import { createHmac } from 'node:crypto';

type Data = Record<string, unknown>;
type Callback = (err?: unknown) => void;
/** `req.session` as code written for express-session uses it: methods with callbacks. */
interface ConnectSession extends Data {
  id: string;
  cookie: { maxAge: number | null; originalMaxAge: number | null; expires: unknown };
  regenerate(callback: Callback): unknown;
  destroy(callback: Callback): unknown;
  reload(callback: Callback): unknown;
  save(callback?: Callback): unknown;
  touch(): unknown;
  resetMaxAge(): unknown;
}
const sessionOf = (req: express.Request) => req.session as unknown as ConnectSession;

/** A cookie for session `id`, signed as both libraries sign it. */
function signed(id: string): string {
  const mac = createHmac('sha256', SECRET).update(id).digest('base64').replace(/=+$/, '');
  return `connect.sid=${encodeURIComponent(`s:${id}.${mac}`)}`;
}

/**
 * `req.session`'s methods with node-style callbacks, and its `id` and `cookie`, as
 * express-session's README documents them: run against express-session and against
 * `@tessera/session/express`, with the same store.
 */
describe.each(BOTH)('%s: req.session', (_name, library) => {
  const start = appsPerTest();
  let store: MemoryStore;
  beforeEach(() => {
    store = new MemoryStore({ sweepInterval: 0 });
  });
  afterEach(() => store.close());

  const routes = (app: express.Express) => {
    sessionRoutes(app);
    app.post('/regenerate', (req, res, next) => {
      const before = req.sessionID;
      const old = sessionOf(req);
      old.regenerate((err) => {
        if (err) return next(err);
        const session = sessionOf(req);
        const data = withoutCookie(session);
        session.after = 'regenerated';
        // A new object; the old one keeps what it held (passport's keepSessionInfo copies it).
        const kept = { newObject: session !== old, oldData: withoutCookie(old) };
        res.json({ before, after: req.sessionID, id: session.id, data, kept });
      });
    });
    app.post('/regenerate-only', (req, res, next) => {
      sessionOf(req).regenerate((err) => (err ? next(err) : res.json({ id: req.sessionID })));
    });
    app.post('/destroy', (req, res, next) => {
      sessionOf(req).destroy((err) => {
        if (err) return next(err);
        res.json({ has: req.session !== undefined });
      });
    });
    app.post('/reload', (req, res, next) => {
      const session = sessionOf(req);
      session.local = 'not saved';
      // Another writer changes the stored session meanwhile.
      // (Callback style, as express-session calls a store; the Promise each returns is not needed.)
      void store.get(req.sessionID, (err, record) => {
        if (err) return next(err);
        void store.set(req.sessionID, { ...record!, remote: 'from the store' }, (err) => {
          if (err) return next(err);
          session.reload((err) => {
            if (err) return next(err);
            res.json({ data: withoutCookie(sessionOf(req)) });
          });
        });
      });
    });
    app.post('/reload-gone', (req, res) => {
      void store.destroy(req.sessionID, () => {
        sessionOf(req).reload((err) => res.json({ failed: err instanceof Error }));
      });
    });
    app.post('/save', (req, res, next) => {
      const session = sessionOf(req);
      session.saved = true;
      session.save((err) => {
        if (err) return next(err);
        // The callback comes once the store has it.
        void store.get(req.sessionID, (_err, record) =>
          res.json({ stored: record?.saved ?? null }),
        );
      });
    });
    app.get('/touch/:method', (req, res) => {
      const session = sessionOf(req);
      const before = session.cookie.maxAge;
      const returned = req.params.method === 'touch' ? session.touch() : session.resetMaxAge();
      res.json({
        before,
        after: session.cookie.maxAge,
        original: session.cookie.originalMaxAge,
        chained: returned === session,
      });
    });
    app.get('/id', (req, res) => {
      const session = sessionOf(req);
      let refused = false;
      try {
        (session as Data).id = 'chosen';
      } catch (err) {
        refused = err instanceof TypeError;
      }
      res.json({
        id: session.id,
        sessionID: req.sessionID,
        refused,
        same: session.id === req.sessionID,
      });
    });
    app.post('/cookie/:how', (req, res) => {
      const session = sessionOf(req);
      if (req.params.how === 'maxAge') session.cookie.maxAge = 5_000;
      else session.cookie.expires = false;
      session.changed = true;
      res.json({ maxAge: session.cookie.maxAge, original: session.cookie.originalMaxAge });
    });
    app.get('/store', (req, res) => {
      res.json({ same: (req as { sessionStore?: unknown }).sessionStore === store });
    });
  };

  const startApp = (options: object = {}) =>
    start(library.session({ ...QUIET, store, ...options }), routes);

  it('regenerate(callback): a new id and empty data, the old session destroyed', async () => {
    const app = await startApp();
    const browser = app.browser();
    const made = await browser.post('/set').send({ user: 'ada' }).expect(200);
    const res = await browser.post('/regenerate').expect(200);
    expect(res.body.before).toBe(made.body.id);
    expect(res.body.after).not.toBe(made.body.id);
    expect(res.body.id).toBe(res.body.after);
    expect(res.body.data).toEqual({});
    expect(res.body.kept).toEqual({ newObject: true, oldData: { user: 'ada' } });
    expect(idOf(cookieOf(res))).toBe(res.body.after);
    expect(await store.get(made.body.id)).toBeNull();
    expect((await store.get(res.body.after))?.after).toBe('regenerated');
    expect((await browser.get('/read').expect(200)).body.data).toEqual({ after: 'regenerated' });
  });

  it('a session regenerate() made is saved and sent even with nothing in it (saveUninitialized: false)', async () => {
    const app = await startApp();
    const res = await app.http().post('/regenerate-only').expect(200);
    expect(idOf(cookieOf(res))).toBe(res.body.id);
    expect(await store.get(res.body.id)).not.toBeNull();
  });

  it('destroy(callback): req.session is gone in the callback, and so is the stored session', async () => {
    const app = await startApp();
    const made = await app.http().post('/set').send({ user: 'ada' }).expect(200);
    const cookie = cookieOf(made);
    const res = await app.http().post('/destroy').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ has: false });
    expect(await store.get(made.body.id)).toBeNull();
    const next = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(next.body.data).toEqual({});
    expect(next.body.id).not.toBe(made.body.id);
  });

  it('reload(callback): the data is read from the store again, unsaved changes dropped', async () => {
    const app = await startApp();
    const cookie = cookieOf(await app.http().post('/set').send({ user: 'ada' }).expect(200));
    const res = await app.http().post('/reload').set('Cookie', cookie).expect(200);
    expect(res.body.data).toEqual({ user: 'ada', remote: 'from the store' });
  });

  it('reload(callback) of a session gone from the store calls back with an error', async () => {
    const app = await startApp();
    const cookie = cookieOf(await app.http().post('/set').send({ user: 'ada' }).expect(200));
    expect((await app.http().post('/reload-gone').set('Cookie', cookie)).body).toEqual({
      failed: true,
    });
  });

  it('save(callback): calls back once the store holds the session', async () => {
    const app = await startApp();
    const res = await app.http().post('/save').expect(200);
    expect(res.body).toEqual({ stored: true });
    expect(idOf(cookieOf(res))).toEqual(expect.any(String));
  });

  it.each(['touch', 'resetMaxAge'])(
    '%s(): cookie.maxAge back to originalMaxAge, for chaining',
    async (method) => {
      const app = await startApp();
      // A session one second from its end, of a minute's lifetime.
      const record: StoredSession = {
        user: 'ada',
        cookie: {
          originalMaxAge: 60_000,
          expires: new Date(Date.now() + 1_000).toISOString(),
          httpOnly: true,
          path: '/',
        },
      };
      await store.set('touched', record);
      const res = await app.http().get(`/touch/${method}`).set('Cookie', signed('touched'));
      expect(res.status).toBe(200);
      expect(res.body.before).toBeLessThanOrEqual(1_000);
      expect(res.body.after).toBeGreaterThan(50_000);
      expect(res.body.original).toBe(60_000);
      if (method === 'resetMaxAge') expect(res.body.chained).toBe(true);
    },
  );

  it('id: the same as req.sessionID, and cannot be changed', async () => {
    const app = await startApp();
    const cookie = cookieOf(await app.http().post('/set').send({ user: 'ada' }).expect(200));
    const res = await app.http().get('/id').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({
      id: idOf(cookie),
      sessionID: idOf(cookie),
      refused: true,
      same: true,
    });
  });

  it('cookie.maxAge is assignable: the cookie sent expires accordingly', async () => {
    const app = await startApp({ cookie: { maxAge: 60_000 } });
    const res = await app.http().post('/cookie/maxAge').expect(200);
    expect(res.body.original).toBe(5_000);
    const expires = Date.parse(/Expires=([^;]+)/.exec(setCookies(res)['connect.sid']!)![1]!);
    expect(Math.abs(expires - (Date.now() + 5_000))).toBeLessThan(3_000);
  });

  it('cookie.expires = false makes a browser-session cookie', async () => {
    const app = await startApp({ cookie: { maxAge: 60_000 } });
    const res = await app.http().post('/cookie/expires').expect(200);
    // false (express-session: `expires` as it is) or null (Tessera): no time left to count.
    expect(res.body.maxAge === false || res.body.maxAge === null).toBe(true);
    expect(setCookies(res)['connect.sid']).not.toContain('Expires=');
  });

  it('cookie.originalMaxAge is the maxAge the cookie was given', async () => {
    const app = await startApp({ cookie: { maxAge: 60_000 } });
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    const res = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(res.body.json.cookie.originalMaxAge).toBe(60_000);
  });

  it('Object.keys(req.session) and its JSON show cookie beside the data', async () => {
    const app = await startApp({ cookie: { maxAge: 60_000 } });
    const cookie = cookieOf(await app.http().post('/set').send({ a: 1 }).expect(200));
    const res = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(res.body.keys).toEqual(['cookie', 'a']);
    expect(Object.keys(res.body.json)).toEqual(['cookie', 'a']);
    expect(res.body.json.cookie).toMatchObject({
      originalMaxAge: 60_000,
      expires: expect.any(String),
      httpOnly: true,
      path: '/',
    });
    // ... and none of that counted as a change: the session was not written again.
    expect(setCookies(res)).toEqual({});
  });

  it('req.sessionStore is the store', async () => {
    const app = await startApp();
    expect((await app.http().get('/store').expect(200)).body).toEqual({ same: true });
  });
});
