import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { sessionCookie } from '../support/app';
import { until } from '../support/time';
import { adminClient, CLIENT_PLATFORMS, useRedisApp } from './redis-app.support';

// A real outage: the redis-server process is stopped and started again under a running app. The
// server keeps an append-only file, as a production Redis would, so the sessions written before
// the outage are still there after it. The clients use the fast-failing options of
// redis-app.support.ts; storeTimeout stays at its default (5 s), so a 503 logged with the
// client's or the store's own error, not with "did not answer within", is one that came fast.

/** The server keeps an append-only file, so what was written before an outage survives it. */
const SERVER_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always'];

/** Collects what Nest's Logger is told at the error level into `logged`, until restored. */
function captureErrors(logged: string[]): void {
  jest.spyOn(Logger.prototype, 'error').mockImplementation(function (
    this: Logger,
    message: unknown,
  ) {
    logged.push(String(message));
  });
}

describe.each(CLIENT_PLATFORMS)(
  'RedisStore in an app while Redis is down (%s, %s)',
  (kind, platform) => {
    const env = useRedisApp({ kind, platform, serverArgs: SERVER_ARGS });
    let logged: string[];

    beforeEach(() => {
      logged = [];
      captureErrors(logged);
    });

    afterEach(async () => {
      jest.restoreAllMocks();
      // Whatever a test did, the next one starts with Redis up and the client connected.
      if (env.server.pid === undefined) await env.server.restart();
      await until('the client to reconnect', () => env.redis.ready());
    });

    const signIn = async () =>
      sessionCookie(await env.t.http().post('/set').send({ user: 'ada' }).expect(200));

    it('answers 503 with the cause logged, serves what needs no session, and works again once Redis is back', async () => {
      const cookie = await signIn();
      await env.server.stop();
      await until('the client to notice', () => !env.redis.ready());

      const res = await env.t.http().get('/read').set('Cookie', cookie).expect(503);
      expect(res.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
      expect(logged.join('\n')).toContain('Could not load the session');
      expect(logged.join('\n')).toContain('RedisStore: Redis is unavailable');
      // A write that cannot reach Redis is never answered with a 2xx, new session or not.
      await env.t.http().post('/set').set('Cookie', cookie).send({ lost: true }).expect(503);
      await env.t.http().post('/set').send({ lost: true }).expect(503);
      // Requests that do not need a stored session are served.
      await env.t.http().get('/none').set('Cookie', cookie).expect(200, 'no session here');
      await env.t.http().get('/none').expect(200, 'no session here');
      expect((await env.t.http().get('/read').expect(200)).body.data).toEqual({});
      expect(logged.join('\n')).not.toContain('did not answer within');

      await env.server.restart();
      await until('the client to reconnect', () => env.redis.ready());
      const again = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
      expect(again.body.data).toEqual({ user: 'ada' });
      // Redis forgot the patch script in the restart: the store loads it again by itself.
      await env.t.http().post('/set').set('Cookie', cookie).send({ after: true }).expect(200);
      const read = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
      expect(read.body).toEqual(expect.objectContaining({ id: again.body.id }));
      expect(read.body.data).toEqual({ user: 'ada', after: true });
    });
  },
);

describe('RedisStore in an app when Redis dies with a command in flight (ioredis)', () => {
  // Declared first, so it runs before the fixture's afterAll closes the app (jest runs afterAll
  // hooks in the order they are declared), as when it opened that hook.
  afterAll(() => jest.restoreAllMocks());
  const env = useRedisApp({ kind: 'ioredis', serverArgs: SERVER_ARGS });
  const logged: string[] = [];
  beforeAll(() => captureErrors(logged));

  it('answers 503 once the client gives the command up (maxRetriesPerRequest: 1), not after storeTimeout', async () => {
    const cookie = sessionCookie(await env.t.http().post('/set').send({ user: 'ada' }).expect(200));
    // The server takes the request's GET but holds it unanswered, so it is surely in flight.
    const pauser = await adminClient(env.server);
    await pauser.call('CLIENT', 'PAUSE', '30000', 'ALL');
    const response = env.t
      .http()
      .get('/read')
      .set('Cookie', cookie)
      .then((res) => res);
    const ioredis = env.redis.client as Redis;
    await until('the GET to be sent', () => ioredis.commandQueue.length > 0);
    pauser.disconnect();
    await env.server.stop();

    expect((await response).status).toBe(503);
    expect(logged.join('\n')).toContain('Could not load the session');
    expect(logged.join('\n')).toContain('max retries per request');
    expect(logged.join('\n')).not.toContain('did not answer within');

    await env.server.restart();
    await until('the client to reconnect', () => env.redis.ready());
    const again = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(again.body.data).toEqual({ user: 'ada' });
  });
});
