import { MemoryStore } from '../../lib';
import { CookieController } from '../src/cookie.controller';
import { SessionController } from '../src/session.controller';
import { appsPerTest, PLATFORMS, sessionCookie, setCookies, signedCookie } from '../support/app';

const allSetCookies = (res: { headers: Record<string, unknown> }): string =>
  ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).join('\n');

describe.each(PLATFORMS)('cookie attributes a handler assigns (%s)', (platform) => {
  const start = appsPerTest(platform, [CookieController, SessionController]);

  it('expires = null on a session whose expiry is already null sends no Set-Cookie', async () => {
    const t = await start({ cookie: { maxAge: null } });
    const browser = t.browser();
    const first = await browser.post('/cookie/expires-null').expect(200);
    expect(setCookies(first)['connect.sid']).not.toContain('Expires=');
    const second = await browser.post('/cookie/expires-null').expect(200);
    expect(second.body.expires).toBeNull();
    expect(setCookies(second)).toEqual({});
  });

  it('assigning the expiry the cookie already has sends no Set-Cookie', async () => {
    const t = await start();
    const browser = t.browser();
    expect(Object.keys(setCookies(await browser.post('/cookie/same-expiry').expect(200)))).toEqual([
      'connect.sid',
    ]);
    expect(setCookies(await browser.post('/cookie/same-expiry').expect(200))).toEqual({});
  });

  it("sameSite = 'LAX' is sent as SameSite=Lax", async () => {
    const t = await start({ cookie: { sameSite: 'strict' } });
    const res = await t.http().post('/cookie/same-site/LAX').expect(200);
    expect(res.body.sameSite).toBe('lax');
    const line = setCookies(res)['connect.sid']!;
    expect(line).toMatch(/; SameSite=Lax$/);
    expect(line).not.toContain('undefined');
  });

  it('the sameSite option in any case is taken as it is spelled in lower case', async () => {
    const t = await start({ cookie: { sameSite: 'None' as 'none', secure: true } });
    const line = setCookies(await t.http().post('/set').send({ a: 1 }).expect(200))['connect.sid']!;
    expect(line).toMatch(/; Secure; SameSite=None$/);
  });

  it('an injected path is a 500 for that request, nothing injected is sent, and the app keeps serving', async () => {
    const t = await start();
    const browser = t.browser();
    await browser.post('/set').send({ user: 'ada' }).expect(200);
    const res = await browser
      .post('/cookie/path')
      .send({ path: '/; Domain=evil.example; SameSite=None' })
      .expect(500);
    expect(allSetCookies(res)).not.toMatch(/evil|SameSite=None/);
    const crlf = await browser
      .post('/cookie/path')
      .send({ path: '/\r\nX-Injected: 1' })
      .expect(500);
    expect(crlf.headers['x-injected']).toBeUndefined();
    // The session is as it was, with its cookie unchanged…
    const read = await browser.get('/read').expect(200);
    expect(read.body.data).toEqual({ user: 'ada' });
    expect(read.body.cookie.path).toBe('/');
    // …and other clients are served as ever.
    expect(Object.keys(setCookies(await t.http().post('/set').send({ b: 1 }).expect(200)))).toEqual(
      ['connect.sid'],
    );
  });

  it('an injected path held in a stored session is refused when the cookie is written: a 500, nothing injected', async () => {
    const store = new MemoryStore();
    const t = await start({ store });
    await store.set('tampered-session', {
      cookie: {
        originalMaxAge: 60_000,
        expires: new Date(Date.now() + 60_000).toISOString(),
        path: '/; Domain=evil.example',
      },
    });
    const res = await t
      .http()
      .post('/set')
      .set('Cookie', signedCookie('tampered-session'))
      .send({ a: 1 });
    expect(res.status).toBe(500);
    expect(allSetCookies(res)).not.toContain('evil');
    const fresh = await t.http().post('/set').send({ b: 1 }).expect(200);
    expect(sessionCookie(fresh)).toMatch(/^connect\.sid=s%3A/);
    store.close();
  });
});
