import { SessionController } from '../src/session.controller';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, signedCookie, startApp, type TestApp } from '../support/app';

describe.each(PLATFORMS)('bad cookies (%s)', (platform) => {
  let t: TestApp;
  let store: InstrumentedStore;
  let good: string;
  let goodId: string;
  beforeAll(async () => {
    store = new InstrumentedStore();
    t = await startApp({ store }, [SessionController], { platform });
    const res = await t.http().post('/set').send({ user: 'ada' }).expect(200);
    good = sessionCookie(res);
    goodId = res.body.id;
  });
  afterAll(async () => {
    await t.close();
    store.close();
  });

  const cases: [string, () => string][] = [
    ['an unsigned id', () => `connect.sid=${goodId}`],
    ['a forged signature', () => signedCookie(goodId, 'not the secret')],
    ['a truncated signature', () => good.slice(0, -5)],
    [
      'a signature of another id',
      () => good.replace(goodId, goodId.slice(0, -1) + (goodId.endsWith('A') ? 'B' : 'A')),
    ],
    ['malformed percent-encoding', () => 'connect.sid=s%3A%E0%A4%A.abc'],
    ['an empty value', () => 'connect.sid='],
    ['a lone "s:"', () => 'connect.sid=s%3A'],
    ['an oversized value', () => `connect.sid=s%3A${'x'.repeat(8_000)}.abc`],
    ['garbage bytes', () => 'connect.sid=\u00ff\u00fe;;;==;'],
    ['only other cookies', () => 'theme=dark; lang=en'],
    ['a name that only ends like ours', () => `xconnect.sid=${good.split('=')[1]}`],
  ];

  it.each(cases)('%s gives a fresh, empty session, never an error', async (_name, cookie) => {
    const res = await t.http().get('/read').set('Cookie', cookie()).expect(200);
    expect(res.body.data).toEqual({});
    expect(res.body.id).not.toBe(goodId);
  });

  it('a duplicated cookie is read: the one that verifies wins', async () => {
    const res = await t
      .http()
      .get('/read')
      .set('Cookie', `connect.sid=s%3Abogus.sig; ${good}`)
      .expect(200);
    expect(res.body.data).toEqual({ user: 'ada' });
    const twice = await t.http().get('/read').set('Cookie', [good, good]).expect(200);
    expect(twice.body.data).toEqual({ user: 'ada' });
  });

  it('an id signed with our secret but unknown to the store gets a fresh session with a new id', async () => {
    const res = await t
      .http()
      .post('/set')
      .set('Cookie', signedCookie('planted-id'))
      .send({ a: 1 })
      .expect(200);
    expect(res.body.id).not.toBe('planted-id');
  });

  it('a stored record that is not a session gives a fresh session', async () => {
    const res = await t.http().post('/set').send({ a: 1 }).expect(200);
    await store.inner.set(res.body.id, { cookie: null } as never);
    const read = await t.http().get('/read').set('Cookie', sessionCookie(res)).expect(200);
    expect(read.body.data).toEqual({});
  });
});
