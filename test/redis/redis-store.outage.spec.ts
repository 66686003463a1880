import { once } from 'node:events';
import Redis from 'ioredis';
import { createClient, type RedisClientType } from 'redis';
import { RedisStore, type RedisStoreClient } from '../../lib/redis';
import { change, dataOf, storedSession } from '../support/records';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { sleep, until } from '../support/time';

interface ClientUnderTest {
  client: RedisStoreClient;
  ready: () => boolean;
  close: () => void;
}

const kinds: [string, (server: RedisServer) => Promise<ClientUnderTest>][] = [
  [
    'ioredis',
    async (server) => {
      // The client's defaults: offline queue on, 20 retries per request.
      const redis = new Redis({ host: '127.0.0.1', port: server.port });
      redis.on('error', () => undefined);
      await once(redis, 'ready');
      return {
        client: redis,
        ready: () => redis.status === 'ready',
        close: () => redis.disconnect(),
      };
    },
  ],
  [
    'node-redis',
    async (server) => {
      const redis: RedisClientType = createClient({
        socket: { host: '127.0.0.1', port: server.port },
      });
      redis.on('error', () => undefined);
      await redis.connect();
      return { client: redis, ready: () => redis.isReady, close: () => redis.destroy() };
    },
  ],
];

describe.each(kinds)('RedisStore (%s) while Redis is down', (_name, connect) => {
  let server: RedisServer;
  let subject: ClientUnderTest;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedisServer();
    subject = await connect(server);
    store = new RedisStore({ client: subject.client });
  });

  afterAll(async () => {
    subject?.close();
    await server?.dispose();
  });

  it('rejects every call at once with a clear error, then works again once Redis is back', async () => {
    const session = storedSession({ a: 1 });
    await store.set('before', session);

    await server.stop();
    await until('the client to notice', () => !subject.ready());

    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('before')],
      ['set', () => store.set('during', session)],
      ['touch', () => store.touch('before', session)],
      ['patch', () => store.patch('during', change(session, { b: 2 }))],
      ['destroy', () => store.destroy('before')],
      ['length', () => store.length()],
      ['ids', () => store.ids()],
      ['all', () => store.all()],
      ['clear', () => store.clear()],
    ];
    for (const [, call] of calls) {
      await expect(call()).rejects.toThrow(
        /^RedisStore: Redis is unavailable \(.+\); the command was not sent$/,
      );
    }
    const viaCallback = await new Promise<unknown>((resolve) =>
      store.get('before', (err) => resolve(err)),
    );
    expect(viaCallback).toBeInstanceOf(Error);

    await server.restart();
    await until('the client to reconnect', () => subject.ready());

    // Nothing tried during the outage was queued and sent late (the restarted server is empty).
    await sleep(200);
    expect(await store.length()).toBe(0);
    await store.set('after', session);
    expect(await store.get('after')).toEqual(session);
    await store.patch('after', change(session, { b: 2 }, [], session)); // script cache is empty again
    expect(dataOf(await store.get('after'))).toEqual({ a: 1, b: 2 });
  });
});
