import { Logger } from '@nestjs/common';
import { SessionController } from '../src/session.controller';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, startApp, type TestApp } from '../support/app';

describe.each(PLATFORMS)('a store that fails (%s)', (platform) => {
  let t: TestApp;
  let store: InstrumentedStore;
  let logged: string[];
  beforeEach(async () => {
    store = new InstrumentedStore();
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(function (
      this: Logger,
      message: unknown,
    ) {
      logged.push(String(message));
    });
    t = await startApp({ store, storeTimeout: 300 }, [SessionController], { platform });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await t.close();
    store.close();
  });

  const signedIn = async () =>
    sessionCookie(await t.http().post('/set').send({ user: 'ada' }).expect(200));

  it('answers 503 with the cause logged when the session cannot be loaded, and serves again once the store is back', async () => {
    const cookie = await signedIn();
    store.failWith = new Error('connection refused');
    const res = await t.http().get('/read').set('Cookie', cookie).expect(503);
    expect(res.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
    expect(logged.join('\n')).toContain('connection refused');
    store.failWith = undefined;
    const again = await t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(again.body.data).toEqual({ user: 'ada' });
  });

  it('serves a request that never reads its session while the store is down', async () => {
    const cookie = await signedIn();
    store.failWith = new Error('connection refused');
    await t.http().get('/none').set('Cookie', cookie).expect(200, 'no session here');
    await t.http().get('/none').expect(200);
  });

  it('answers 503, never a 2xx, when a write does not reach the store', async () => {
    const cookie = await signedIn();
    store.reset();
    const failingPatch = store.patch.bind(store);
    store.patch = async () => {
      throw new Error('disk full');
    };
    const res = await t.http().post('/set').set('Cookie', cookie).send({ lost: true }).expect(503);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(logged.join('\n')).toContain('disk full');
    store.patch = failingPatch;
    expect((await t.http().get('/read').set('Cookie', cookie).expect(200)).body.data).toEqual({
      user: 'ada',
    });
  });

  it('treats a store that does not answer within storeTimeout as failed (503)', async () => {
    const cookie = await signedIn();
    store.hang = true;
    await t.http().get('/read').set('Cookie', cookie).expect(503);
    expect(logged.join('\n')).toContain('did not answer within 300 ms');
    store.hang = false;
    await t.http().get('/read').set('Cookie', cookie).expect(200);
  });

  it('answers 503 when a new session cannot be saved', async () => {
    store.failWith = new Error('read-only replica');
    await t.http().post('/set').send({ a: 1 }).expect(503);
  });

  it('refuses data JSON cannot hold with a clear error, not a silent loss', async () => {
    const cookie = await signedIn();
    const res = await t.http().post('/unstorable').set('Cookie', cookie);
    expect(res.status).toBe(500);
    expect(logged.join('\n')).toContain(
      'Session value "handler" cannot be stored as JSON: a Map would be stored as {}',
    );
    expect((await t.http().get('/read').set('Cookie', cookie).expect(200)).body.data).toEqual({
      user: 'ada',
    });
  });
});
