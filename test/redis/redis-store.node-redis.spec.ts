import express from 'express';
import session from 'express-session';
import Redis from 'ioredis';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import { createClient, type RedisClientType } from 'redis';
import request from 'supertest';
import { RedisStore } from '../../lib/redis';
import { sid } from '../support/ids';
import { storedSession } from '../support/records';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { describeRedisStore } from './redis-store.suite';

let server: RedisServer;
let client: RedisClientType;
let secondClient: RedisClientType;
let admin: Redis;

async function connect(): Promise<RedisClientType> {
  const redis: RedisClientType = createClient({ socket: { host: '127.0.0.1', port: server.port } });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

beforeAll(async () => {
  server = await startRedisServer();
  [client, secondClient] = await Promise.all([connect(), connect()]);
  admin = new Redis({ host: '127.0.0.1', port: server.port });
});

afterAll(async () => {
  for (const redis of [client, secondClient]) redis?.destroy();
  admin?.disconnect();
  await server?.dispose();
});

describeRedisStore('node-redis', () => ({ client, admin, secondClient }));

describe('RedisStore and connect-redis share their records', () => {
  beforeEach(() => admin.flushall());

  it('reads what connect-redis wrote, and connect-redis reads what it wrote', async () => {
    const theirs = new ConnectRedisStore({ client });
    const ours = new RedisStore({ client });
    const fromThem = storedSession({ user: { id: 7 }, list: [] });
    await theirs.set('from-them', fromThem as never);
    expect(await ours.get('from-them')).toEqual(fromThem);
    const fromUs = storedSession({ cart: [1, 2] });
    await ours.set('from-us', fromUs);
    expect(await theirs.get('from-us')).toEqual(fromUs);
    expect((await theirs.ids()).sort()).toEqual(['from-them', 'from-us']);
    expect((await ours.ids()).sort()).toEqual(['from-them', 'from-us']);
  });
});

describe('RedisStore as an express-session store', () => {
  beforeEach(() => admin.flushall());

  function app(store: session.Store | RedisStore) {
    const web = express();
    web.use(
      session({
        store: store as session.Store,
        secret: 'keyboard cat',
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: 60_000 },
      }),
    );
    web.get('/count', (req, res) => {
      const data = req.session as unknown as { n?: number };
      data.n = (data.n ?? 0) + 1;
      res.json({ n: data.n });
    });
    web.get('/peek', (req, res) => res.json({ n: (req.session as unknown as { n?: number }).n }));
    web.get('/regenerate', (req, res, next) =>
      req.session.regenerate((err) => (err ? next(err) : res.json({ id: req.sessionID }))),
    );
    web.get('/reload', (req, res, next) =>
      req.session.reload((err) => (err ? next(err) : res.json(req.session))),
    );
    web.get('/logout', (req, res, next) =>
      req.session.destroy((err) => (err ? next(err) : res.json({ ok: true }))),
    );
    return web;
  }

  it('keeps a session across requests, with its key and TTL in Redis', async () => {
    const agent = request.agent(app(new RedisStore({ client })));
    await agent.get('/count').expect(200, { n: 1 });
    await agent.get('/count').expect(200, { n: 2 });
    const ids = await new RedisStore({ client }).ids();
    expect(ids).toHaveLength(1);
    const stored = JSON.parse((await admin.get(`sess:${ids[0]}`))!);
    expect(stored).toEqual(expect.objectContaining({ n: 2, cookie: expect.any(Object) }));
    expect(await admin.pttl(`sess:${ids[0]}`)).toBeGreaterThan(50_000);
    await agent.get('/reload').expect(200, /"n":2/);
    await agent.get('/regenerate').expect(200);
    await agent.get('/peek').expect(200, {});
    await agent.get('/count').expect(200, { n: 1 });
    await agent.get('/logout').expect(200);
    expect(await admin.dbsize()).toBe(0);
  });

  it('takes over the sessions of an app that ran connect-redis, and the other way round', async () => {
    const before = app(new ConnectRedisStore({ client }));
    const after = app(new RedisStore({ client }));
    const first = await request(before).get('/count').expect(200, { n: 1 });
    const cookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    await request(after).get('/count').set('Cookie', cookie).expect(200, { n: 2 });
    await request(before).get('/count').set('Cookie', cookie).expect(200, { n: 3 });
    await request(after).get('/peek').set('Cookie', cookie).expect(200, { n: 3 });
  });

  it('answers load() with an express-session Session', async () => {
    const store = new RedisStore({ client });
    const agent = request.agent(app(store));
    await agent.get('/count').expect(200, { n: 1 });
    const [id] = await store.ids();
    const loaded = await new Promise<session.Session & { n?: number }>((resolve, reject) =>
      store.load(id!, (err, value) => (err ? reject(err) : resolve(value as never))),
    );
    expect(loaded.id).toBe(id);
    expect(loaded.n).toBe(1);
    expect(loaded.cookie.expires).toBeInstanceOf(Date);
    expect(typeof loaded.save).toBe('function');
    await new Promise<void>((resolve) =>
      store.load(sid(), (err, value) => {
        expect(err).toBeFalsy();
        expect(value).toBeUndefined();
        resolve();
      }),
    );
  });
});
