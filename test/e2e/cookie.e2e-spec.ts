import { MemoryStore } from '../../lib';
import { SessionController } from '../src/session.controller';
import { appsPerTest, PLATFORMS, sessionCookie, setCookies, signedCookie } from '../support/app';
import { sleep } from '../support/time';

describe.each(PLATFORMS)('the session cookie (%s)', (platform) => {
  const start = appsPerTest(platform, [SessionController]);

  it('is signed as express-session signs it, with the default attributes', async () => {
    const t = await start();
    const res = await t.http().post('/set').send({ a: 1 }).expect(200);
    const line = setCookies(res)['connect.sid']!;
    expect(line).toMatch(
      /^connect\.sid=s%3A[A-Za-z0-9_-]{43}\.[A-Za-z0-9%]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
    );
    expect(sessionCookie(res)).toBe(signedCookie(res.body.id));
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    expect(Math.abs(expires - (Date.now() + 14_400_000))).toBeLessThan(5_000);
  });

  it('accepts a cookie signed the express-session way', async () => {
    const store = new MemoryStore();
    const t = await start({ store });
    const cookie = {
      originalMaxAge: 60_000,
      expires: new Date(Date.now() + 60_000).toISOString(),
      httpOnly: true,
      path: '/',
    };
    await store.set('an-express-session-id', { cookie, views: 41 });
    const res = await t
      .http()
      .get('/')
      .set('Cookie', signedCookie('an-express-session-id'))
      .expect(200);
    expect(res.body.views).toBe(42);
  });

  it('merges a partial cookie option over the defaults', async () => {
    const t = await start({ cookie: { maxAge: 60_000 } });
    const line = setCookies(await t.http().post('/set').send({ a: 1 }))['connect.sid']!;
    expect(line).toContain('; Path=/;');
    expect(line).toContain('; HttpOnly');
    expect(line).toContain('; SameSite=Lax');
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    expect(Math.abs(expires - (Date.now() + 60_000))).toBeLessThan(5_000);
  });

  it('honours name, key (its alias), path, domain, sameSite, partitioned, priority and httpOnly', async () => {
    const t = await start({
      name: 'sid',
      cookie: {
        path: '/app',
        domain: 'example.test',
        sameSite: 'strict',
        partitioned: true,
        priority: 'high',
        httpOnly: false,
        secure: true,
      },
    });
    const line = setCookies(await t.http().post('/set').set('Cookie', 'other=1').send({ a: 1 }))[
      'sid'
    ]!;
    expect(line).toMatch(/^sid=s%3A/);
    expect(line).toContain('; Path=/app');
    expect(line).toContain('; Domain=example.test');
    expect(line).toContain('; SameSite=Strict');
    expect(line).toContain('; Partitioned');
    expect(line).toContain('; Priority=High');
    expect(line).toContain('; Secure');
    expect(line).not.toContain('HttpOnly');
    const aliased = await start({ key: 'legacy.sid' });
    expect(Object.keys(setCookies(await aliased.http().post('/set').send({ a: 1 })))).toEqual([
      'legacy.sid',
    ]);
  });

  it('sends a browser-session cookie (no Expires) for maxAge: null', async () => {
    const t = await start({ cookie: { maxAge: null } });
    const line = setCookies(await t.http().post('/set').send({ a: 1 }))['connect.sid']!;
    expect(line).not.toContain('Expires=');
  });

  it("with secure: 'auto', marks the cookie Secure only for HTTPS requests, trusting X-Forwarded-Proto only with proxy", async () => {
    const trusted = await start({ proxy: true });
    const viaHttps = setCookies(
      await trusted.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }),
    )['connect.sid']!;
    expect(viaHttps).toContain('; Secure');
    const viaHttp = setCookies(await trusted.http().post('/set').send({ a: 1 }))['connect.sid']!;
    expect(viaHttp).not.toContain('Secure');
    const untrusted = await start({ proxy: false });
    const forged = setCookies(
      await untrusted.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }),
    )['connect.sid']!;
    expect(forged).not.toContain('Secure');
  });

  it("with secure: 'auto' and no proxy option, follows Express's trust proxy setting", async () => {
    if (platform !== 'express') return;
    const t = await start({}, [SessionController], {
      configure: (app) =>
        (app as unknown as { set(name: string, value: unknown): void }).set('trust proxy', true),
    });
    const line = setCookies(
      await t.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }),
    )['connect.sid']!;
    expect(line).toContain('; Secure');
    const untrusting = await start();
    const plain = setCookies(
      await untrusting.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }),
    )['connect.sid']!;
    expect(plain).not.toContain('Secure');
  });

  it('a fixed expires option gives every session that expiry', async () => {
    const expires = new Date(Date.now() + 3 * 86_400_000);
    expires.setMilliseconds(0);
    const t = await start({ cookie: { expires } });
    const line = setCookies(await t.http().post('/set').send({ a: 1 }))['connect.sid']!;
    expect(line).toContain(`; Expires=${expires.toUTCString()}`);
  });

  it('secure: false never marks the cookie Secure', async () => {
    const t = await start({ proxy: true, cookie: { secure: false } });
    const line = setCookies(
      await t.http().post('/set').set('X-Forwarded-Proto', 'https').send({ a: 1 }),
    )['connect.sid']!;
    expect(line).not.toContain('Secure');
  });

  it('maxAge reads the time remaining and resets when the request ends (the seed’s example)', async () => {
    const t = await start({ cookie: { maxAge: 60_000 } });
    const browser = t.browser();
    const first = await browser.get('/').expect(200);
    expect(first.body.maxAge).toBeGreaterThan(59_000);
    await sleep(1_100);
    const read = await browser.get('/read').expect(200);
    // Counting down during the request…
    expect(read.body.maxAge).toBeLessThanOrEqual(59_000);
    // …and back to its original value once a request has ended with a write.
    await browser.get('/').expect(200);
    const after = await browser.get('/read').expect(200);
    expect(after.body.maxAge).toBeGreaterThan(59_000);
  });

  it('lets a handler change maxAge and expires, and sends the new expiry', async () => {
    const t = await start();
    const browser = t.browser();
    await browser.post('/set').send({ a: 1 }).expect(200);
    const res = await browser.post('/max-age/120000').expect(200);
    const line = setCookies(res)['connect.sid']!;
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    expect(Math.abs(expires - (Date.now() + 120_000))).toBeLessThan(5_000);
    const read = await browser.get('/read').expect(200);
    expect(read.body.cookie.originalMaxAge).toBeGreaterThan(119_000);
    const browserSession = await browser.post('/browser-session').expect(200);
    expect(browserSession.body.expires).toBe(false);
    expect(setCookies(browserSession)['connect.sid']).not.toContain('Expires=');
    const kept = await browser.get('/read').expect(200);
    expect(kept.body.data.kind).toBe('browser');
    expect(kept.body.cookie.expires).toBeNull();
  });
});
