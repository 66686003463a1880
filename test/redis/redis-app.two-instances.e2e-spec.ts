import type Redis from 'ioredis';
import { RedisStore } from '../../lib/redis';
import { Gate, GateController } from '../src/gate.controller';
import { SessionController } from '../src/session.controller';
import { holdAtGate } from '../support/gate';
import { sessionCookie, startApp, type TestApp } from '../support/app';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { adminClient, CLIENT_PLATFORMS, connectClient, type AppClient } from './redis-app.support';

describe.each(CLIENT_PLATFORMS)('two app instances behind one Redis (%s, %s)', (kind, platform) => {
  let server: RedisServer;
  let admin: Redis;
  const clients: AppClient[] = [];
  const apps: TestApp[] = [];
  const gate = new Gate();

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await adminClient(server);
    // Two separate apps, each with its own client and store, as two processes would have.
    for (let i = 0; i < 2; i++) {
      const redis = await connectClient(kind, server);
      clients.push(redis);
      const store = new RedisStore({ client: redis.client });
      const providers = [{ provide: Gate, useValue: gate }];
      apps.push(
        await startApp({ store }, [SessionController, GateController], { platform, providers }),
      );
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const redis of clients) await redis.close();
    admin?.disconnect();
    await server?.dispose();
  });

  const signIn = async (data: Record<string, unknown>) =>
    sessionCookie(await apps[0]!.http().post('/set').send(data).expect(200));
  const readOn = async (app: TestApp, cookie: string) =>
    (await app.http().get('/read').set('Cookie', cookie).expect(200)).body as {
      id: string;
      data: Record<string, unknown>;
      cookie: Record<string, unknown>;
    };

  /**
   * Sends `path` (a gated route) to `app` and resolves once the request holds its loaded session
   * at the gate; `finish()` then lets it change the session and waits for its response.
   */
  async function hold(app: TestApp, cookie: string, path: string, body: object = {}) {
    const release = await holdAtGate(gate, app, cookie, path, body);
    return { finish: async () => expect((await release()).status).toBe(200) };
  }

  it('a session started on one instance is the same session on the other', async () => {
    const cookie = await signIn({ user: 'ada' });
    const [a, b] = [await readOn(apps[0]!, cookie), await readOn(apps[1]!, cookie)];
    expect(b.id).toBe(a.id);
    expect(b.data).toEqual({ user: 'ada' });
    expect(b.cookie).toEqual(a.cookie);
  });

  it('concurrent requests changing different keys, one on each instance, both keep their change', async () => {
    const cookie = await signIn({ a: 0 });
    // Both have read { a: 0 } before either writes.
    const first = await hold(apps[0]!, cookie, 'set', { x: 1 });
    const second = await hold(apps[1]!, cookie, 'set', { y: 2 });
    await first.finish();
    await second.finish();
    const { id, data } = await readOn(apps[0]!, cookie);
    expect(data).toEqual({ a: 0, x: 1, y: 2 });
    expect((await readOn(apps[1]!, cookie)).data).toEqual(data);
    expect(JSON.parse((await admin.get(`sess:${id}`))!)).toEqual({
      ...data,
      cookie: expect.any(Object),
    });
    expect(await admin.pttl(`sess:${id}`)).toBeGreaterThan(0);
  });

  it('a key deleted on one instance and untouched on the other stays deleted', async () => {
    const cookie = await signIn({ a: 1, b: 1 });
    const deleting = await hold(apps[0]!, cookie, 'unset/a');
    const other = await hold(apps[1]!, cookie, 'set', { c: 1 });
    await deleting.finish();
    await other.finish();
    expect((await readOn(apps[1]!, cookie)).data).toEqual({ b: 1, c: 1 });
    expect((await readOn(apps[0]!, cookie)).data).toEqual({ b: 1, c: 1 });
  });

  it('the same key changed on both instances keeps the later write', async () => {
    const cookie = await signIn({ k: 'start' });
    const earlier = await hold(apps[1]!, cookie, 'set', { k: 'earlier' });
    const later = await hold(apps[0]!, cookie, 'set', { k: 'later' });
    await earlier.finish();
    await later.finish();
    expect((await readOn(apps[1]!, cookie)).data).toEqual({ k: 'later' });
  });
});
