import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisStore } from '../../lib/redis';
import { SessionController } from '../src/session.controller';
import { PLATFORMS, sessionCookie, startApp, type Platform, type TestApp } from '../support/app';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import {
  adminClient,
  CLIENT_KINDS,
  connectClient,
  until,
  type AppClient,
  type ClientKind,
} from './redis-app.support';

// A real outage: the redis-server process is stopped and started again under a running app. The
// server keeps an append-only file, as a production Redis would, so the sessions written before
// the outage are still there after it. The clients use the fast-failing options of
// redis-app.support.ts; storeTimeout stays at its default (5 s), so a 503 logged with the
// client's or the store's own error, not with "did not answer within", is one that came fast.

const combos = CLIENT_KINDS.flatMap((kind) =>
  PLATFORMS.map((platform): [ClientKind, Platform] => [kind, platform]),
);

describe.each(combos)('RedisStore in an app while Redis is down (%s, %s)', (kind, platform) => {
  let server: RedisServer;
  let redis: AppClient;
  let t: TestApp;
  let logged: string[];

  beforeAll(async () => {
    server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
    redis = await connectClient(kind, server);
    t = await startApp({ store: new RedisStore({ client: redis.client }) }, [SessionController], {
      platform,
    });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.close();
    await server?.dispose();
  });

  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(function (
      this: Logger,
      message: unknown,
    ) {
      logged.push(String(message));
    });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    // Whatever a test did, the next one starts with Redis up and the client connected.
    if (server.pid === undefined) await server.restart();
    await until('the client to reconnect', () => redis.ready());
  });

  const signIn = async () =>
    sessionCookie(await t.http().post('/set').send({ user: 'ada' }).expect(200));

  it('answers 503 with the cause logged, serves what needs no session, and works again once Redis is back', async () => {
    const cookie = await signIn();
    await server.stop();
    await until('the client to notice', () => !redis.ready());

    const res = await t.http().get('/read').set('Cookie', cookie).expect(503);
    expect(res.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
    expect(logged.join('\n')).toContain('Could not load the session');
    expect(logged.join('\n')).toContain('RedisStore: Redis is unavailable');
    // A write that cannot reach Redis is never answered with a 2xx, new session or not.
    await t.http().post('/set').set('Cookie', cookie).send({ lost: true }).expect(503);
    await t.http().post('/set').send({ lost: true }).expect(503);
    // Requests that do not need a stored session are served.
    await t.http().get('/none').set('Cookie', cookie).expect(200, 'no session here');
    await t.http().get('/none').expect(200, 'no session here');
    expect((await t.http().get('/read').expect(200)).body.data).toEqual({});
    expect(logged.join('\n')).not.toContain('did not answer within');

    await server.restart();
    await until('the client to reconnect', () => redis.ready());
    const again = await t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(again.body.data).toEqual({ user: 'ada' });
    // Redis forgot the patch script in the restart: the store loads it again by itself.
    await t.http().post('/set').set('Cookie', cookie).send({ after: true }).expect(200);
    const read = await t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(read.body).toEqual(expect.objectContaining({ id: again.body.id }));
    expect(read.body.data).toEqual({ user: 'ada', after: true });
  });
});

describe('RedisStore in an app when Redis dies with a command in flight (ioredis)', () => {
  let server: RedisServer;
  let redis: AppClient;
  let t: TestApp;
  let logged: string[];

  beforeAll(async () => {
    server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
    redis = await connectClient('ioredis', server);
    t = await startApp({ store: new RedisStore({ client: redis.client }) }, [SessionController]);
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(function (
      this: Logger,
      message: unknown,
    ) {
      logged.push(String(message));
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
    await redis?.close();
    await server?.dispose();
  });

  it('answers 503 once the client gives the command up (maxRetriesPerRequest: 1), not after storeTimeout', async () => {
    const cookie = sessionCookie(await t.http().post('/set').send({ user: 'ada' }).expect(200));
    // The server takes the request's GET but holds it unanswered, so it is surely in flight.
    const pauser = await adminClient(server);
    await pauser.call('CLIENT', 'PAUSE', '30000', 'ALL');
    const response = t
      .http()
      .get('/read')
      .set('Cookie', cookie)
      .then((res) => res);
    const ioredis = redis.client as Redis;
    await until('the GET to be sent', () => ioredis.commandQueue.length > 0);
    pauser.disconnect();
    await server.stop();

    expect((await response).status).toBe(503);
    expect(logged.join('\n')).toContain('Could not load the session');
    expect(logged.join('\n')).toContain('max retries per request');
    expect(logged.join('\n')).not.toContain('did not answer within');

    await server.restart();
    await until('the client to reconnect', () => redis.ready());
    const again = await t.http().get('/read').set('Cookie', cookie).expect(200);
    expect(again.body.data).toEqual({ user: 'ada' });
  });
});
