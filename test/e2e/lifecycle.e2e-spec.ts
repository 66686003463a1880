import { SessionController } from '../src/session.controller';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';

describe.each(PLATFORMS)('session methods (%s)', (platform) => {
  let t: TestApp;
  let store: InstrumentedStore;
  beforeEach(async () => {
    store = new InstrumentedStore();
    t = await startApp({ store }, [SessionController], { platform });
  });
  afterEach(async () => {
    await t.close();
    store.close();
  });

  it('counts views across requests (the seed’s demo)', async () => {
    const browser = t.browser();
    expect((await browser.get('/')).body.views).toBe(1);
    expect((await browser.get('/')).body.views).toBe(2);
    expect((await browser.get('/')).body.views).toBe(3);
  });

  it('regenerate(): new id, empty data, old record destroyed, the same object carries the new id', async () => {
    const browser = t.browser();
    const first = await browser.post('/set').send({ secret: 'before login' }).expect(200);
    const oldId = first.body.id as string;
    const login = await browser.post('/login').send({ user: 'ada' }).expect(200);
    expect(login.body.before).toBe(oldId);
    expect(login.body.after).not.toBe(oldId);
    expect(login.body.current).toBe(true);
    expect(await store.inner.get(oldId)).toBeNull();
    const read = await browser.get('/read').expect(200);
    expect(read.body.id).toBe(login.body.after);
    expect(read.body.data).toEqual({ user: 'ada' });
  });

  it('destroy(): record removed, req.session gone, cookie cleared, next request fresh', async () => {
    const browser = t.browser();
    const { id } = (await browser.post('/set').send({ user: 'ada' })).body as { id: string };
    const res = await browser.post('/logout').expect(200);
    expect(res.body.sessionAfter).toBe('undefined');
    expect(await store.inner.get(id)).toBeNull();
    const cleared = setCookies(res)['connect.sid']!;
    expect(cleared).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
    const next = await t
      .http()
      .get('/read')
      .set('Cookie', `connect.sid=${encodeURIComponent('whatever')}`)
      .expect(200);
    expect(next.body.id).not.toBe(id);
    expect(next.body.data).toEqual({});
  });

  it('a cookie whose session is gone gets a new id, never the old one (no fixation)', async () => {
    const res = await t.http().post('/set').send({ a: 1 }).expect(200);
    const cookie = sessionCookie(res);
    await store.inner.destroy(res.body.id);
    const next = await t.http().post('/set').set('Cookie', cookie).send({ b: 2 }).expect(200);
    expect(next.body.id).not.toBe(res.body.id);
    expect(await store.inner.get(res.body.id)).toBeNull();
  });

  it('save() writes at once; the end of the request does not write the same thing again', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    await browser.post('/save').expect(200);
    expect(store.count('patch')).toBe(1);
    expect((await browser.get('/read')).body.data).toEqual({ a: 1, step: 'saved' });
  });

  it('reload() re-reads the stored data into the same object', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ kept: true }).expect(200);
    const res = await browser.post('/reload').expect(200);
    expect(res.body.data).toEqual({ kept: true });
  });

  it('touch() extends the store expiry at the end of the request even when touchAfter has not passed', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    store.reset();
    await browser.post('/touch').expect(200);
    expect(store.count('touch')).toBe(1);
    expect(store.count('patch') + store.count('set')).toBe(0);
  });

  it('works with node-style callbacks on req.session, as passport calls it', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ old: true }).expect(200);
    const res = await browser.post('/callbacks').expect(200);
    expect(res.body.second).not.toBe(res.body.first);
    expect(res.body.id).toBe(res.body.second);
    expect((await browser.get('/read')).body.data).toEqual({ viaCallback: true });
  });

  it('reload, touch and destroy call back too', async () => {
    const browser = t.browser();
    const { id } = (await browser.post('/set').send({ kept: 1 })).body as { id: string };
    const res = await browser.post('/callbacks-rest').expect(200);
    expect(res.body).toEqual({
      reload: 'ok',
      dataAfterReload: { kept: 1 },
      touch: 'ok',
      destroy: 'ok',
    });
    expect(await store.inner.get(id)).toBeNull();
  });

  it('SessionService acts on the current request’s session without being handed it', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ old: true }).expect(200);
    const res = await browser.post('/service').expect(200);
    const read = await browser.get('/read').expect(200);
    expect(read.body.id).toBe(res.body.id);
    expect(read.body.data).toEqual({ viaService: true });
  });

  it('SessionService finds the session after a large request body was read in many chunks', async () => {
    const browser = t.browser();
    await browser.post('/set').send({ old: true }).expect(200);
    const big = { padding: 'x'.repeat(90_000) };
    const res = await browser.post('/service').send(big).expect(200);
    expect((await browser.get('/read').expect(200)).body.id).toBe(res.body.id);
  });

  it('writes the session before the response goes out, so a redirect’s next request sees it', async () => {
    const browser = t.browser();
    const res = await browser.get('/redirect').redirects(1).expect(200);
    expect(res.body.data).toEqual({ beforeRedirect: true });
  });
});
