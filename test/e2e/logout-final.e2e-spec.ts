import Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { MemoryStore, type SessionStore } from '../../lib';
import { RedisStore } from '../../lib/redis';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { Gate, GateController } from '../src/gate.controller';
import { SessionController } from '../src/session.controller';
import { holdAtGate } from '../support/gate';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { bothDatabases } from '../typeorm/databases';

/** A store on its real backend, made fresh for each test, and how to let it go. */
interface StoreKind {
  make(): Promise<{ store: SessionStore; close(): Promise<void> }>;
}

let redisServer: RedisServer | undefined;
beforeAll(async () => {
  redisServer = await startRedisServer();
}, 60_000);
afterAll(async () => {
  await redisServer?.dispose();
});

const [[, postgres], [, sqlite]] = bothDatabases();
const typeorm = (database: typeof postgres): StoreKind => ({
  make: async () => {
    const dataSource: DataSource = await database.open({ entities: [SessionEntity] });
    const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
    return {
      store,
      close: async () => {
        await store.close();
        await dataSource.destroy();
      },
    };
  },
});

const STORES: [string, StoreKind][] = [
  [
    'MemoryStore',
    {
      make: async () => {
        const store = new MemoryStore();
        return { store, close: async () => store.close() };
      },
    },
  ],
  [
    'RedisStore',
    {
      make: async () => {
        const client = new Redis({ host: '127.0.0.1', port: redisServer!.port });
        await client.flushall();
        return { store: new RedisStore({ client }), close: async () => client.disconnect() };
      },
    },
  ],
  ['TypeOrmStore (PostgreSQL)', typeorm(postgres)],
  ['TypeOrmStore (SQLite)', typeorm(sqlite)],
];

const combos = STORES.flatMap(([name, kind]) =>
  PLATFORMS.map((platform) => [name, kind, platform] as const),
);

/**
 * API.md, "Logout is final": a request that loaded its session before another request destroyed
 * it cannot bring the session back by writing to it afterwards.
 */
describe.each(combos)('logout is final (%s, %s)', (_name, kind, platform) => {
  let t: TestApp;
  let store: SessionStore;
  let close: () => Promise<void>;
  const gate = new Gate();

  beforeEach(async () => {
    ({ store, close } = await kind.make());
    const providers = [{ provide: Gate, useValue: gate }];
    t = await startApp({ store }, [SessionController, GateController], { platform, providers });
  });
  afterEach(async () => {
    await t.close();
    await close();
  });

  const signIn = async () => {
    const res = await t.http().post('/set').send({ user: 'ada', role: 'admin' }).expect(200);
    return { cookie: sessionCookie(res), id: (res.body as { id: string }).id };
  };

  it.each([
    ['changes a key', 'set', { cart: ['book'] }],
    ['deletes a key', 'unset/role', {}],
  ])(
    'a request in flight that %s after the logout is dropped, and its response clears the cookie',
    async (_what, path, body) => {
      const { cookie, id } = await signIn();
      const finish = await holdAtGate(gate, t, cookie, path, body);
      await t.http().post('/logout').set('Cookie', cookie).expect(200);
      const late = await finish();
      expect(late.status).toBe(200);
      expect(setCookies(late)['connect.sid']).toMatch(/^connect\.sid=; .*Expires=Thu, 01 Jan 1970/);
      expect((await store.get(id)) ?? null).toBeNull();
      const next = await t.http().get('/read').set('Cookie', cookie).expect(200);
      expect(next.body.id).not.toBe(id);
      expect(next.body.data).toEqual({});
    },
  );

  it('a session still stored is written as before (the gate itself changes nothing)', async () => {
    const { cookie, id } = await signIn();
    const finish = await holdAtGate(gate, t, cookie, 'set', { cart: ['book'] });
    const res = await finish();
    expect(res.status).toBe(200);
    expect(setCookies(res)['connect.sid'] ?? '').not.toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(await store.get(id)).toEqual(
      expect.objectContaining({ user: 'ada', role: 'admin', cart: ['book'] }),
    );
  });
});
