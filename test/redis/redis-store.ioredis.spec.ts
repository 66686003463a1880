import { once } from 'node:events';
import Redis, { type RedisOptions } from 'ioredis';
import { RedisStore, type RedisStoreClient, type RedisStoreOptions } from '../../lib/redis';
import { storedSession, withUser } from '../support/records';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { describeRedisStore } from './redis-store.suite';

let server: RedisServer;
let client: Redis;
let secondClient: Redis;
let admin: Redis;

async function connect(options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port: server.port, ...options });
  redis.on('error', () => undefined);
  if (redis.status !== 'wait') await once(redis, 'ready');
  return redis;
}

beforeAll(async () => {
  server = await startRedisServer();
  [client, secondClient, admin] = await Promise.all([connect(), connect(), connect()]);
});

afterAll(async () => {
  for (const redis of [client, secondClient, admin]) redis?.disconnect();
  await server?.dispose();
});

describeRedisStore('ioredis', () => ({ client, admin, secondClient }));

describe('RedisStore (ioredis): client options', () => {
  beforeEach(() => admin.flushall());

  it("works under the client's own keyPrefix, and lists and clears through it", async () => {
    const prefixed = await connect({ keyPrefix: 'app1:' });
    try {
      const store = new RedisStore({ client: prefixed });
      await admin.set('app2:sess:other', 'x');
      await store.set('a', storedSession({ n: 1 }));
      expect(await admin.exists('app1:sess:a')).toBe(1);
      expect(await store.ids()).toEqual(['a']);
      expect(Object.keys(await store.all())).toEqual(['a']);
      await store.clear();
      expect(await admin.keys('*')).toEqual(['app2:sess:other']);
    } finally {
      prefixed.disconnect();
    }
  });

  it("keeps the per-user index under the client's keyPrefix too", async () => {
    const prefixed = await connect({ keyPrefix: 'app1:' });
    try {
      const store = new RedisStore({ client: prefixed });
      const ids = ['a', 'b', 'c'];
      for (const id of ids) await store.set(id, withUser(storedSession({ id }), 'ada'));
      expect(await admin.zrange('app1:sess:~user:ada', 0, -1)).toEqual(ids);
      const found = await store.findByUser('ada');
      expect(found.map(({ id }) => id).sort()).toEqual(ids);
      await expect(store.destroyByUser('ada', 'b')).resolves.toBe(2);
      expect((await admin.keys('*')).sort()).toEqual(['app1:sess:b', 'app1:sess:~user:ada']);
    } finally {
      prefixed.disconnect();
    }
  });

  it('lets a lazyConnect client connect on its first command', async () => {
    const lazy = await connect({ lazyConnect: true });
    try {
      expect(lazy.status).toBe('wait');
      const store = new RedisStore({ client: lazy });
      const session = storedSession({ n: 1 });
      await store.set('a', session);
      expect(await store.get('a')).toEqual(session);
    } finally {
      lazy.disconnect();
    }
  });

  it('lets the first commands of a client that is still connecting wait for it', async () => {
    const fresh = new Redis({ host: '127.0.0.1', port: server.port });
    fresh.on('error', () => undefined);
    try {
      const store = new RedisStore({ client: fresh });
      expect(fresh.status).toBe('connecting');
      const session = storedSession({ n: 1 });
      await store.set('a', session);
      expect(await store.get('a')).toEqual(session);
    } finally {
      fresh.disconnect();
    }
  });

  it('never closes the client it was given', async () => {
    const store = new RedisStore({ client });
    await store.clear();
    expect(client.status).toBe('ready');
  });
});

describe('RedisStore options', () => {
  const fake = { call: async () => null, status: 'ready' } as unknown as RedisStoreClient;

  it('rejects what it cannot honour, naming the option', () => {
    expect(() => new RedisStore({} as RedisStoreOptions)).toThrow('RedisStore option "client"');
    expect(() => new RedisStore({ client: {} as RedisStoreClient })).toThrow(
      'RedisStore option "client" must be an ioredis Redis or Cluster, or a node-redis client or cluster',
    );
    expect(() => new RedisStore({ client: fake, ttl: 0 })).toThrow('RedisStore option "ttl"');
    expect(() => new RedisStore({ client: fake, scanCount: 1.5 })).toThrow(
      'RedisStore option "scanCount"',
    );
  });

  it('defaults its prefix to sess:', () => {
    expect(new RedisStore({ client: fake }).prefix).toBe('sess:');
  });
});
