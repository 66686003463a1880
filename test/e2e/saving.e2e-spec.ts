import { SessionController } from '../src/session.controller';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';
import { MemoryStore, type SessionModuleOptions } from '../../lib';
import { sleep } from '../support/time';

describe.each(PLATFORMS)('when sessions are written and cookies sent (%s)', (platform) => {
  let t: TestApp | undefined;
  let store: InstrumentedStore;
  const start = async (options: Partial<SessionModuleOptions> = {}) => {
    store = new InstrumentedStore();
    t = await startApp({ store, ...options }, [SessionController], { platform });
    return t;
  };
  afterEach(async () => {
    await t?.close();
    store.close();
  });

  it('a visitor nothing was stored for gets no cookie and causes no store call (saveUninitialized: false)', async () => {
    const app = await start();
    const read = await app.http().get('/read').expect(200);
    expect(setCookies(read)).toEqual({});
    const none = await app.http().get('/none').expect(200);
    expect(setCookies(none)).toEqual({});
    expect(store.calls).toEqual([]);
  });

  it('saveUninitialized: true saves and sends a cookie for an untouched new session', async () => {
    const app = await start({ saveUninitialized: true });
    const res = await app.http().get('/read').expect(200);
    expect(setCookies(res)['connect.sid']).toBeDefined();
    expect(store.count('set')).toBe(1);
    expect(await store.inner.get(res.body.id)).not.toBeNull();
  });

  it('saveUninitialized: true saves and sends a cookie even when the handler never reads the session', async () => {
    const app = await start({ saveUninitialized: true });
    const res = await app.http().get('/none').expect(200);
    const cookie = setCookies(res)['connect.sid'];
    expect(cookie).toBeDefined();
    expect(store.count('set')).toBe(1);
    const id = /^connect\.sid=s%3A([^.]+)\./.exec(cookie!)![1]!;
    expect(await store.inner.get(decodeURIComponent(id))).not.toBeNull();
  });

  it('an unchanged session costs one read and is not rewritten; a changed one is written once', async () => {
    const app = await start();
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    const unchanged = await browser.get('/read').expect(200);
    expect(store.calls.map((c) => c.op)).toEqual(['get']);
    expect(setCookies(unchanged)).toEqual({});
    store.reset();
    await browser.post('/set').send({ a: 2 }).expect(200);
    expect(store.calls.map((c) => c.op)).toEqual(['get', 'patch']);
  });

  // Fastify commits in its onSend hook: while the commit runs, the reply must read as sent, or
  // Fastify, when the handler's promise settles, sends a second, empty reply ahead of the first.
  it.each([
    ['MemoryStore', () => new MemoryStore()],
    ['a store that answers later', () => store],
  ])(
    'a reply whose handler changed the session arrives whole, with one cookie (%s)',
    async (_what, make) => {
      store = new InstrumentedStore(); // closed by afterEach, as every test's
      const memory = make();
      t = await startApp({ store: memory }, [SessionController], { platform });
      const browser = t.browser();
      for (const views of [1, 2, 3]) {
        const res = await browser.get('/').expect(200);
        expect(res.body).toEqual({ views, maxAge: expect.any(Number) });
        expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
        expect((res.headers['set-cookie'] as unknown as string[]).length).toBe(1);
      }
      if (memory instanceof MemoryStore) memory.close();
    },
  );

  it('a change deep inside a value counts as a change', async () => {
    const app = await start();
    const browser = app.browser();
    await browser
      .post('/set')
      .send({ cart: { items: [1] } })
      .expect(200);
    await browser
      .post('/set')
      .send({ cart: { items: [1, 2] } })
      .expect(200);
    expect((await browser.get('/read')).body.data).toEqual({ cart: { items: [1, 2] } });
  });

  it('writes only the keys a request changed, and deletes what it deleted', async () => {
    const app = await start();
    const browser = app.browser();
    await browser.post('/set').send({ a: 1, b: 1 }).expect(200);
    store.reset();
    await browser.post('/unset/a').expect(200);
    const patch = store.calls.find((c) => c.op === 'patch')!.arg as {
      set: object;
      unset: string[];
    };
    expect(Object.keys(patch.set)).toEqual(['cookie']);
    expect(patch.unset).toEqual(['a']);
    expect((await browser.get('/read')).body.data).toEqual({ b: 1 });
  });

  it.each([
    ['resave: true writes an unchanged session back', { resave: true }, 'patch'],
    ['touchAfter: 0 extends the expiry', { touchAfter: 0 }, 'touch'],
  ] as const)('%s on every request', async (_what, options, op) => {
    const app = await start(options);
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    await browser.get('/read').expect(200);
    await browser.get('/read').expect(200);
    expect(store.count(op)).toBe(2);
  });

  it('rolling: true sends the cookie with a fresh expiry on every response', async () => {
    const app = await start({ rolling: true, cookie: { maxAge: 60_000 } });
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    await sleep(1_100);
    const before = Date.now();
    const res = await browser.get('/read').expect(200);
    const after = Date.now();
    const line = setCookies(res)['connect.sid']!;
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    // Expires is an HTTP date, whole seconds rounded down: bracket it by the
    // request's own start and end. More than a second after /set, the lower
    // bound is past any expiry that response could have sent.
    expect(expires).toBeGreaterThanOrEqual(Math.floor((before + 60_000) / 1_000) * 1_000);
    expect(expires).toBeLessThanOrEqual(after + 60_000);
  });

  it('without rolling, an unchanged session sends no cookie', async () => {
    const app = await start();
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    expect(setCookies(await browser.get('/read'))).toEqual({});
  });

  it('touchAfter: an unchanged session’s expiry is extended only once that much of its life has passed', async () => {
    const app = await start({ touchAfter: 1_000 });
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    await browser.get('/read').expect(200);
    expect(store.count('touch')).toBe(0);
    await sleep(1_100);
    await browser.get('/read').expect(200);
    expect(store.count('touch')).toBe(1);
    // The touch reset the clock: the next read is one call again.
    store.reset();
    await browser.get('/read').expect(200);
    expect(store.calls.map((c) => c.op)).toEqual(['get']);
  });

  it('touchAfter throttles the touches of a browser-session cookie’s session too', async () => {
    const app = await start({ touchAfter: 1_000, cookie: { maxAge: null } });
    const browser = app.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    await browser.get('/read').expect(200);
    expect(store.calls.map((c) => c.op)).toEqual(['get']);
    await sleep(1_100);
    await browser.get('/read').expect(200);
    expect(store.count('touch')).toBe(1);
  });

  it('two concurrent requests of one session that change different keys both keep their change', async () => {
    const app = await start();
    const first = await app.http().post('/set').send({ shared: 0 }).expect(200);
    const cookie = sessionCookie(first);
    await Promise.all([
      app.http().post('/slow-set?wait=150').set('Cookie', cookie).send({ a: 'from A' }).expect(200),
      app.http().post('/slow-set?wait=50').set('Cookie', cookie).send({ b: 'from B' }).expect(200),
    ]);
    const read = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(read.body.data).toEqual({ shared: 0, a: 'from A', b: 'from B' });
  });

  it('a key deleted by one request and untouched by another stays deleted; the same key changed by both keeps the later write', async () => {
    const app = await start();
    const first = await app.http().post('/set').send({ gone: 1, same: 'initial' }).expect(200);
    const cookie = sessionCookie(first);
    let release!: () => void;
    store.getGate = new Promise<void>((resolve) => (release = resolve));
    /** Sends a POST of this session at once, without waiting for its response. */
    const inFlight = (path: string, body?: object) => {
      const req = app.http().post(path).set('Cookie', cookie);
      return (body ? req.send(body) : req).then((r) => r);
    };
    const deleting = inFlight('/unset/gone');
    const early = inFlight('/slow-set?wait=20', { same: 'earlier' });
    const late = inFlight('/slow-set?wait=200', { same: 'later' });
    // Every request has read the same record before any writes.
    await sleep(100);
    release();
    await Promise.all([deleting, early, late]);
    store.getGate = undefined;
    const read = await app.http().get('/read').set('Cookie', cookie).expect(200);
    expect(read.body.data).toEqual({ same: 'later' });
  });
});
