import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../sample/src/app.module';
import { startModule, type Platform, type TestApp } from './support/app';
import { startPostgres, type PostgresServer } from './support/postgres';
import { startRedisServer, type RedisServer } from './support/redis-server';

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
      .expect('Location', '/me');
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: 'ada', views: 0 });
    expect((await browser.get('/me').expect(200)).text).toContain('&#34;user&#34;: &#34;ada&#34;');
    await browser.post('/logout').expect(303);
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: null, views: 0 });
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
