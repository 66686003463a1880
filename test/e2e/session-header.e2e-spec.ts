import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { AccountController, userIdOf } from '../src/account.controller';
import { SessionController } from '../src/session.controller';
import { setCookies, SECRET } from '../support/app';
import {
  appPerTest,
  Device,
  everyStore,
  onEveryPlatform,
  record,
  SESSION_HEADER,
  signedValue,
} from '../support/session-matrix';

/** The first secret signs; the second (the suites' usual one) still verifies: a rotation. */
const CURRENT = 'session header suite: the current secret';
const OLD = SECRET;

const STORES = everyStore();

/** The session header of a response, `undefined` when it has none. */
const headerOf = (res: Response) => res.headers[SESSION_HEADER.toLowerCase()] as string | undefined;

/** The session cookie's value in a response, URL-decoded. */
const cookieValueOf = (res: Response) => {
  const line = setCookies(res)['connect.sid'] ?? '';
  return decodeURIComponent(line.slice('connect.sid='.length, line.indexOf(';')));
};

/**
 * API.md, "Session id in a header": with `header: 'X-Session-Token'` a request's session comes
 * from that header when it carries a valid signed id (it wins over the cookie), and a response
 * that sets the cookie carries the header too.
 */
describe.each(onEveryPlatform(STORES))('the session header (%s, %s)', (_name, platform, kind) => {
  const env = appPerTest(kind, platform, {
    options: { header: SESSION_HEADER, secret: [CURRENT, OLD], userId: userIdOf },
    controllers: [AccountController, SessionController],
  });

  /** A client that signs in as `user`, keeping its session by `via`, with its session's id. */
  const signIn = async (user: string, via: 'cookie' | 'header') => {
    const client = new Device(env.t, via);
    const res = await client.post('/account/sign-in', { user });
    expect(res.status).toBe(200);
    return Object.assign(client, { id: res.body.id as string, res });
  };

  /** `/read` with exactly these request headers, no others. */
  const readWith = async (headers: Record<string, string | string[]>) => {
    const req = env.t.http().get('/read');
    for (const [name, value] of Object.entries(headers)) void req.set(name, value as never);
    const res = await req;
    expect(res.status).toBe(200);
    return res.body as { id: string; data: Record<string, unknown> };
  };

  it('a client that never sends a cookie keeps its session through the header alone', async () => {
    const api = await signIn('ada', 'header');
    expect(headerOf(api.res)).toBe(signedValue(api.id, CURRENT));
    // From here on the client sends that header and never a Cookie.

    expect(await api.read()).toMatchObject({ id: api.id, data: { userId: 'ada' } });
    const changed = await api.post('/set', { cart: ['book'] });
    expect(changed.status).toBe(200);
    expect(await api.read()).toMatchObject({
      id: api.id,
      data: { userId: 'ada', cart: ['book'] },
    });
    // An unchanged read sets no cookie, so it carries no header either.
    const unchanged = await api.get('/read');
    expect(setCookies(unchanged)).toEqual({});
    expect(headerOf(unchanged)).toBeUndefined();
    expect(await record(env.store, api.id)).toMatchObject({ userId: 'ada', cart: ['book'] });
  });

  it('the header carries the cookie’s signed value, s:<id>.<signature>, not URL-encoded', async () => {
    // Until a signature has a character that URL-encoding changes (+ or /: three in four do).
    let res = await env.t.http().post('/account/sign-in').send({ user: 'ada' }).expect(200);
    for (let i = 0; i < 20 && !/[+/]/.test(headerOf(res) ?? ''); i++)
      res = await env.t.http().post('/account/sign-in').send({ user: 'ada' }).expect(200);
    const value = headerOf(res)!;
    expect(value).toMatch(/[+/]/);
    expect(value).toBe(signedValue(res.body.id as string, CURRENT));
    expect(value).not.toContain('%');
    expect(value).toBe(cookieValueOf(res));
    // The cookie's own value is the URL-encoded form of the same text.
    expect(setCookies(res)['connect.sid']).toContain(`connect.sid=${encodeURIComponent(value)};`);
  });

  it('the cookie keeps working beside the header', async () => {
    const browser = await signIn('ada', 'cookie');
    expect(headerOf(browser.res)).toBe(cookieValueOf(browser.res));
    expect(await browser.read()).toMatchObject({ id: browser.id, data: { userId: 'ada' } });
    // And the same session through the header, the cookie's value as it is.
    expect((await readWith({ [SESSION_HEADER]: headerOf(browser.res)! })).id).toBe(browser.id);
  });

  it('a forged header is no session: 200 and a fresh session, the signed-in one untouched', async () => {
    const ada = await signIn('ada', 'header');
    const forged = [
      `s:${ada.id}.${'A'.repeat(43)}`,
      signedValue(ada.id, 'a secret the app never had'),
      signedValue(randomBytes(32).toString('base64url'), CURRENT),
      `${signedValue(ada.id, CURRENT).slice(0, -1)}${signedValue(ada.id, CURRENT).endsWith('A') ? 'B' : 'A'}`,
    ];
    for (const value of forged) {
      const read = await readWith({ [SESSION_HEADER]: value });
      expect([value, read.id === ada.id, read.data]).toEqual([value, false, {}]);
    }
    expect(await ada.read()).toMatchObject({ id: ada.id, data: { userId: 'ada' } });
  });

  it('a malformed header is no session either, never a 5xx; writing gives a new session and its header', async () => {
    const ada = await signIn('ada', 'header');
    const good = signedValue(ada.id, CURRENT);
    const malformed: (string | string[])[] = [
      '',
      'garbage',
      's:',
      's:.',
      '.',
      `s:${ada.id}`,
      `s:${ada.id}.`,
      `${good}.`,
      ` ${good}x`,
      good.slice(2),
      'x'.repeat(8_000),
      [good, good],
    ];
    for (const value of malformed) {
      const res = await env.t
        .http()
        .post('/set')
        .set(SESSION_HEADER, value as string)
        .send({ fresh: true });
      const label = Array.isArray(value) ? 'two header lines' : value.slice(0, 60);
      expect([label, res.status]).toEqual([label, 200]);
      const id = res.body.id as string;
      expect([label, id === ada.id]).toEqual([label, false]);
      expect([label, headerOf(res)]).toEqual([label, signedValue(id, CURRENT)]);
      expect(await record(env.store, id)).toMatchObject({ fresh: true });
    }
    expect(await record(env.store, ada.id)).toMatchObject({ userId: 'ada' });
    expect(await record(env.store, ada.id)).not.toHaveProperty('fresh');
  });

  it('a valid header wins over a valid cookie of another session', async () => {
    const ada = await signIn('ada', 'cookie');
    const bob = await signIn('bob', 'header');
    const read = await readWith({ Cookie: ada.cookie!, [SESSION_HEADER]: bob.token! });
    expect(read).toMatchObject({ id: bob.id, data: { userId: 'bob' } });
  });

  it('a forged or malformed header beside a valid cookie: the cookie’s session', async () => {
    const ada = await signIn('ada', 'cookie');
    for (const value of [
      `s:${ada.id}.${'A'.repeat(43)}`,
      'garbage',
      '',
      signedValue(ada.id, 'nope'),
    ]) {
      const read = await readWith({ Cookie: ada.cookie!, [SESSION_HEADER]: value });
      expect([value, read.id]).toEqual([value, ada.id]);
      expect(read.data).toMatchObject({ userId: 'ada' });
    }
  });

  it('destroy() answers the header with an empty value, and the session is gone', async () => {
    const api = await signIn('ada', 'header');
    const token = api.token!;
    const res = await api.post('/account/logout');
    expect(res.status).toBe(200);
    expect(headerOf(res)).toBe('');
    expect(await record(env.store, api.id)).toBeNull();
    const after = await readWith({ [SESSION_HEADER]: token });
    expect(after.id).not.toBe(api.id);
    expect(after.data).toEqual({});
  });

  it('regenerate() answers a new signed value; the old one names no session any more', async () => {
    const api = await signIn('ada', 'header');
    const first = api.token!;
    const res = await api.post('/account/sign-in', { user: 'bob' });
    const id = res.body.id as string;
    expect(id).not.toBe(api.id);
    expect(headerOf(res)).toBe(signedValue(id, CURRENT));
    expect(headerOf(res)).not.toBe(first);
    expect(await record(env.store, api.id)).toBeNull();
    expect(await api.read()).toMatchObject({ id, data: { userId: 'bob' } });
    const old = await readWith({ [SESSION_HEADER]: first });
    expect(old.id).not.toBe(api.id);
    expect(old.id).not.toBe(id);
    expect(old.data).toEqual({});
  });

  it('a header signed with an older secret is answered with the value the first secret signs', async () => {
    const api = await signIn('ada', 'header');
    const res = await env.t.http().get('/read').set(SESSION_HEADER, signedValue(api.id, OLD));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: api.id, data: { userId: 'ada' } });
    expect(headerOf(res)).toBe(signedValue(api.id, CURRENT));
  });
});
