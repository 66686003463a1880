import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../sample/src/app.module';
import { startModule, type Platform, type TestApp } from './support/app';
import { startPostgres, type PostgresServer } from './support/postgres';
import { startRedisServer, type RedisServer } from './support/redis-server';

type Browser = ReturnType<TestApp['browser']>;

/** The pages a browser can GET from the sample. */
const PAGES = ['/', '/me', '/sessions', '/api/me', '/style.css'];

/** The session id in a browser's cookie jar: the `<id>` of `s:<id>.<signature>`. */
function sessionId(browser: Browser): string {
  const cookie = browser.jar.getCookie('connect.sid', {
    domain: '127.0.0.1',
    path: '/',
    secure: false,
    script: false,
  });
  if (!cookie) throw new Error('the browser holds no session cookie');
  const value = decodeURIComponent(cookie.value);
  return value.slice(2, value.lastIndexOf('.'));
}

/** Signs a browser in through the sample's form. */
async function signIn(browser: Browser, user: string, device: string): Promise<void> {
  await browser
    .post('/login')
    .type('form')
    .send({ user, device })
    .expect(303)
    .expect('Location', '/sessions');
}

interface Listed {
  device: string | undefined;
  current: boolean;
  handle: string | undefined;
}

/** The sessions `/sessions` lists, read from its HTML. */
async function listed(browser: Browser): Promise<Listed[]> {
  const { text } = await browser.get('/sessions').expect(200);
  return [...text.matchAll(/<li class="session( current)?">([\s\S]*?)<\/li>/g)].map(
    ([, current, item]) => ({
      current: current !== undefined,
      device: /<strong class="device">([^<]*)<\/strong>/.exec(item!)?.[1],
      handle: /name="handle" value="([^"]*)"/.exec(item!)?.[1],
    }),
  );
}

/** The sample as `npm start` runs it, on each store `SESSION_STORE` can pick, and both adapters. */
describe.each<[string, Platform]>([
  ['sqlite', 'express'],
  ['sqlite', 'fastify'],
  ['memory', 'express'],
  ['redis', 'fastify'],
  ['postgres', 'express'],
])('the sample app on SESSION_STORE=%s, HTTP_ADAPTER=%s', (kind, platform) => {
  let t: TestApp;
  let dir: string;
  let redis: RedisServer | undefined;
  let postgres: PostgresServer | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sample-'));
    process.env.SESSION_STORE = kind;
    process.env.SESSION_SQLITE_FILE = join(dir, 'sessions.sqlite');
    if (kind === 'redis') {
      redis = await startRedisServer();
      process.env.REDIS_URL = redis.url;
    }
    if (kind === 'postgres') {
      postgres = await startPostgres();
      process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${postgres.port}/postgres`;
    }
    t = await startModule(AppModule, platform);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await postgres?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts views as the seed’s demo does, keeping the cookie across refreshes', async () => {
    const browser = t.browser();
    expect((await browser.get('/').expect(200)).text).toContain(
      'welcome to the session demo. refresh!',
    );
    const second = await browser.get('/').expect(200);
    expect(second.text).toContain('<p>views: 1</p>');
    expect(second.text).toMatch(/<p>expires in: \d+ s<\/p>/);
    expect((await browser.get('/').expect(200)).text).toContain('<p>views: 2</p>');
  });

  it('logs in with a new session id, shows the data, and logs out', async () => {
    const browser = t.browser();
    await browser.get('/').expect(200);
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: null, views: 1 });
    await browser
      .post('/login')
      .type('form')
      .send({ user: 'ada' })
      .expect(303)
      .expect('Location', '/sessions');
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: 'ada', views: 0 });
    expect((await browser.get('/me').expect(200)).text).toContain('&#34;user&#34;: &#34;ada&#34;');
    await browser.post('/logout').expect(303);
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: null, views: 0 });
  });

  it('shows no session id on any page, the handle instead', async () => {
    const browser = t.browser();
    await browser.get('/').expect(200);
    const before = sessionId(browser);
    const pages = async (id: string) => {
      for (const path of PAGES) {
        const res = await browser.get(path).expect(200);
        expect({ path, shows: res.text.includes(id) }).toEqual({ path, shows: false });
      }
    };
    await pages(before);
    await signIn(browser, 'hopper', 'desk');
    const id = sessionId(browser);
    expect(id).not.toBe(before);
    await pages(id);
    const me = (await browser.get('/me').expect(200)).text;
    expect(me).toMatch(/&#34;handle&#34;: &#34;[\w-]+&#34;/);
    expect(me).not.toContain('&#34;id&#34;');
  });

  it('serves its stylesheet without a session', async () => {
    const res = await t
      .http()
      .get('/style.css')
      .expect(200)
      .expect('Content-Type', /^text\/css/);
    expect(res.text).toContain('font');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await t.http().get('/').expect(200)).text).toContain(
      '<link rel="stylesheet" href="/style.css">',
    );
  });

  it('lists a user’s sessions and signs out one device, then everywhere else', async () => {
    const [laptop, phone, tablet] = [t.browser(), t.browser(), t.browser()];
    await signIn(laptop, 'lin', 'laptop');
    await signIn(phone, 'lin', '<b>phone</b>');
    await signIn(tablet, 'lin', 'tablet');
    const ids = [laptop, phone, tablet].map(sessionId);
    // A session of another user, which nothing below may end.
    const other = t.browser();
    await signIn(other, 'mae', 'desk');

    // Each sees the three, itself marked, the label escaped; the others have a sign-out form.
    for (const [browser, device] of [
      [laptop, 'laptop'],
      [phone, '&#60;b&#62;phone&#60;/b&#62;'],
      [tablet, 'tablet'],
    ] as const) {
      const list = await listed(browser);
      expect(list.map((s) => s.device).sort()).toEqual(
        ['&#60;b&#62;phone&#60;/b&#62;', 'laptop', 'tablet'].sort(),
      );
      expect(list.filter((s) => s.current)).toEqual([{ device, current: true, handle: undefined }]);
      expect(list.filter((s) => !s.current).every((s) => s.handle)).toBe(true);
    }
    const handles = (await listed(laptop)).filter((s) => !s.current);
    for (const id of ids) expect(handles.map((s) => s.handle)).not.toContain(id);

    // Another user cannot end lin's session with its handle.
    const phoneHandle = handles.find((s) => s.device?.includes('phone'))!.handle!;
    // The handle the laptop sees for the phone is the one the phone's own /me shows.
    expect((await phone.get('/me').expect(200)).text).toContain(
      `&#34;handle&#34;: &#34;${phoneHandle}&#34;`,
    );
    await other.post('/sessions/sign-out').type('form').send({ handle: phoneHandle }).expect(303);
    expect(await listed(other)).toHaveLength(1);
    expect(await listed(laptop)).toHaveLength(3);

    // Sign out the phone from the laptop.
    await laptop.post('/sessions/sign-out').type('form').send({ handle: phoneHandle }).expect(303);
    const afterOne = (await laptop.get('/sessions').expect(200)).text;
    expect(afterOne).toContain('Signed out that device.');
    expect((await listed(laptop)).map((s) => s.device).sort()).toEqual(['laptop', 'tablet']);
    await laptop.post('/sessions/sign-out').type('form').send({ handle: phoneHandle }).expect(303);
    expect((await laptop.get('/sessions').expect(200)).text).toContain(
      'That session had already ended.',
    );

    // Sign out everywhere else.
    await laptop.post('/sessions/sign-out-others').expect(303);
    expect((await laptop.get('/sessions').expect(200)).text).toContain(
      'Signed out 1 other session.',
    );
    expect(await listed(laptop)).toEqual([{ device: 'laptop', current: true, handle: undefined }]);
    expect((await laptop.get('/api/me').expect(200)).body).toEqual({ user: 'lin', views: 0 });
    expect(await listed(other)).toHaveLength(1);

    // The signed-out clients start over: no user, a new session id once one is stored.
    for (const [browser, id] of [
      [phone, ids[1]],
      [tablet, ids[2]],
    ] as const) {
      expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: null, views: 0 });
      expect((await browser.get('/').expect(200)).text).toContain(
        'welcome to the session demo. refresh!',
      );
      expect(sessionId(browser)).not.toBe(id);
      expect(await listed(browser)).toEqual([]);
    }
  });

  if (kind === 'sqlite') {
    it('keeps sessions across a restart of the app', async () => {
      const browser = t.browser();
      await browser.post('/login').type('form').send({ user: 'grace' }).expect(303);
      await t.close();
      t = await startModule(AppModule, platform);
      // The same cookie jar, against the restarted app on its new port.
      const cookie = browser.jar.getCookie('connect.sid', {
        domain: '127.0.0.1',
        path: '/',
        secure: false,
        script: false,
      });
      expect(cookie).toBeDefined();
      const me = await t
        .http()
        .get('/api/me')
        .set('Cookie', `connect.sid=${cookie!.value}`)
        .expect(200);
      expect(me.body).toEqual({ user: 'grace', views: 0 });
    });
  }
});
