import { once } from 'node:events';
import { Cluster } from 'ioredis';
import { createCluster, type RedisClusterType } from 'redis';
import { RedisStore, type RedisStoreClient } from '../../lib/redis';
import { describeStoreContract } from '../stores/store-contract';
import { describeUserIndexContract } from '../stores/user-index-contract';
import { sid } from '../support/ids';
import { change, dataOf, storedSession } from '../support/records';
import { redisCli, startRedisCluster, type RedisCluster } from '../support/redis-server';
import { describeRecordsCjsonCannotRead } from './redis-store.suite';
import { describeRedisUserIndex } from './redis-store.user-index';

let cluster: RedisCluster;
let ioredis: Cluster;
let nodeRedis: RedisClusterType;

/** Every master, one redis-cli call each: what the store wrote, seen from outside. */
async function onEachNode(...args: string[]): Promise<string[]> {
  return Promise.all(cluster.nodes.map((node) => redisCli(node.port, ...args)));
}

const flush = async () => void (await onEachNode('FLUSHALL'));

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  ioredis = new Cluster(cluster.seeds);
  ioredis.on('error', () => undefined);
  nodeRedis = createCluster({
    rootNodes: cluster.seeds.map(({ host, port }) => ({ socket: { host, port } })),
  });
  nodeRedis.on('error', () => undefined);
  await Promise.all([once(ioredis, 'ready'), nodeRedis.connect()]);
}, 60_000);

afterAll(async () => {
  ioredis?.disconnect();
  nodeRedis?.destroy();
  await cluster?.dispose();
});

const clients: [string, () => RedisStoreClient][] = [
  ['ioredis Cluster', () => ioredis],
  ['node-redis cluster', () => nodeRedis as unknown as RedisStoreClient],
];

for (const [name, client] of clients) {
  describeStoreContract(`RedisStore (${name})`, async () => {
    await flush();
    return { store: new RedisStore({ client: client() }) };
  });

  describeUserIndexContract(`RedisStore (${name})`, async () => {
    await flush();
    return { store: new RedisStore({ client: client() }) };
  });

  describeRecordsCjsonCannotRead(name, () => ({ client: client(), admin: ioredis }));

  describeRedisUserIndex(name, () => ({
    client: client(),
    admin: ioredis,
    ports: cluster.nodes.map((node) => node.port),
    cluster: true,
    flush,
  }));

  describe(`RedisStore (${name}): across the masters`, () => {
    beforeEach(flush);

    it('finds, lists and clears sessions on every master, and nothing else', async () => {
      const store = new RedisStore({ client: client(), scanCount: 5 });
      const ids = Array.from({ length: 30 }, () => sid());
      for (const id of ids) await store.set(id, storedSession({ id }));
      await ioredis.set('other:key', 'kept');
      const perNode = (await onEachNode('DBSIZE')).map(Number);
      expect(perNode.every((count) => count > 0)).toBe(true);
      expect((await store.ids()).sort()).toEqual([...ids].sort());
      expect(await store.length()).toBe(30);
      const all = await store.all();
      expect(Object.keys(all).sort()).toEqual([...ids].sort());
      expect(dataOf(all[ids[3]!])).toEqual({ id: ids[3] });
      await store.clear();
      expect(await store.length()).toBe(0);
      expect(await ioredis.get('other:key')).toBe('kept');
    });

    it('patches sessions on every node, loading the script where it is missing', async () => {
      const store = new RedisStore({ client: client() });
      const ids = Array.from({ length: 12 }, () => sid());
      for (const id of ids) await store.set(id, storedSession({ a: 1, list: [] }));
      await onEachNode('SCRIPT', 'FLUSH');
      for (const id of ids) await store.patch(id, change(storedSession({}), { b: [] }, ['a']));
      for (const id of ids) expect(dataOf(await store.get(id))).toEqual({ list: [], b: [] });
    });

    it('keeps the changes of two app instances to one session', async () => {
      const one = new RedisStore({ client: ioredis });
      const two = new RedisStore({ client: nodeRedis as unknown as RedisStoreClient });
      const id = sid();
      await one.set(id, storedSession({}));
      const [readByOne, readByTwo] = await Promise.all([one.get(id), two.get(id)]);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? two : one).patch(
            id,
            change(
              storedSession({ [`k${i}`]: i }),
              { [`k${i}`]: i },
              [],
              i % 2 ? readByTwo : readByOne,
            ),
          ),
        ),
      );
      expect(Object.keys(dataOf(await one.get(id))).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `k${i}`).sort(),
      );
    });
  });
}
