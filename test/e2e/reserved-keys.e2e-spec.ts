import { SessionController } from '../src/session.controller';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';

const RESERVED = [
  'id',
  'cookie',
  'regenerate',
  'destroy',
  'reload',
  'save',
  'touch',
  'resetMaxAge',
  'constructor',
  '__fingerprint',
];

/**
 * API.md, "Reserved names": request input assigned to a session (`Object.assign(session, body)`)
 * cannot change its id, cookie or binding, and a reserved key is refused, never stored and lost.
 */
describe.each(PLATFORMS)('reserved session keys (%s)', (platform) => {
  let t: TestApp;
  let store: InstrumentedStore;
  beforeEach(async () => {
    store = new InstrumentedStore();
    t = await startApp({ store, fingerprint: () => 'client' }, [SessionController], { platform });
  });
  afterEach(async () => {
    await t.close();
    store.close();
  });

  const signIn = async () => {
    const res = await t.http().post('/set').send({ user: 'ada' }).expect(200);
    return { cookie: sessionCookie(res), id: (res.body as { id: string }).id };
  };

  it.each(RESERVED)(
    '"%s" in the body is refused with a 5xx, and the session stays as it was',
    async (key) => {
      const { cookie, id } = await signIn();
      const before = await store.inner.get(id);
      store.reset();
      const res = await t
        .http()
        .post('/set')
        .set('Cookie', cookie)
        .send({
          [key]: { id: 'attacker-chosen', expires: '2099-01-01T00:00:00.000Z', httpOnly: false },
        });
      expect(res.status).toBe(500);
      expect(store.count('patch') + store.count('set')).toBe(0);
      expect(await store.inner.get(id)).toEqual(before);
      const after = await t.http().get('/read').set('Cookie', cookie).expect(200);
      expect(after.body.id).toBe(id);
      expect(after.body.data).toEqual({ user: 'ada' });
    },
  );

  it('a JSON body with a __proto__ key cannot choose the session id or change the cookie', async () => {
    const { cookie, id } = await signIn();
    const res = await t
      .http()
      .post('/set')
      .set('Cookie', cookie)
      .set('Content-Type', 'application/json')
      .send('{"views":1,"__proto__":{"id":"attacker-chosen","cookie":{"httpOnly":false}}}');
    // Express parses the key and the session refuses it (500); Fastify's parser refuses it (400).
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(setCookies(res))).not.toContain('attacker-chosen');
    expect(await store.inner.get('attacker-chosen')).toBeNull();
    const after = await t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(after.body.id).toBe(id);
    expect(after.body.cookie.httpOnly).toBe(true);
  });
});
