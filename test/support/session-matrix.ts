import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import type { INestApplication, Provider, Type } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { createCluster, type RedisClusterType } from 'redis';
import type { Response } from 'supertest';
import { MemoryStore, type SessionModuleOptions, type SessionStore } from '../../lib';
import type { StoredCookie, StoredSession } from '../../lib/core/stored-session';
import type { IndexedSession } from '../../lib/core/session-store';
import { RedisStore, type RedisStoreClient } from '../../lib/redis';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { connectClient, type AppClient, type ClientKind } from '../redis/redis-app.support';
import { postgres, sqlite, type Database } from '../typeorm/databases';
import { PLATFORMS, SECRET, setCookies, startApp, type Platform, type TestApp } from './app';
import { startPostgres, type PostgresServer } from './postgres';
import {
  redisCli,
  startRedisCluster,
  startRedisServer,
  type RedisCluster,
  type RedisServer,
} from './redis-server';

/*
 * What the e2e suites of the per-user index, the timeouts and the session header share: every
 * built-in store on its real backend, a client that keeps its session as a browser (cookie) or
 * an API client (header) would, and ways to age a stored record without waiting.
 */

// ---------------------------------------------------------------------------------------------
// Stores

/** A store made fresh (and empty) for one test. */
export interface MadeStore {
  store: SessionStore;
  /**
   * Redis only: another store on the same backend, through a client of its own, as a second
   * app instance (another process) would have it. Closed with the rest by `close()`.
   */
  another?: () => Promise<SessionStore>;
  close(): Promise<void>;
}

/** One store of the matrix. */
export interface StoreKind {
  readonly name: string;
  /** Whether several app instances can share it (a Redis): the suites' two-instance cases. */
  readonly shared: boolean;
  make(): Promise<MadeStore>;
}

type Service = 'redis' | 'cluster' | 'postgres';

interface KindSpec {
  name: string;
  needs?: Service;
  shared?: boolean;
  make(): Promise<MadeStore>;
}

/**
 * Every built-in store, for `describe.each`: MemoryStore; RedisStore on a standalone
 * redis-server through ioredis and through node-redis, and on a three-master Redis Cluster
 * through both clients' cluster types; TypeOrmStore on PostgreSQL and on SQLite. Call it at the
 * top of a test file: it starts the servers the selected stores need before the file's tests and
 * stops them after. The environment variable `E2E_STORES` (a RegExp on the names) runs a part
 * of the matrix, e.g. `E2E_STORES=Memory npx jest test/e2e/timeouts.e2e-spec.ts`.
 */
export function everyStore(): StoreKind[] {
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  let pg: PostgresServer | undefined;
  const standalone = new Map<ClientKind, AppClient>();
  let clusterClients: { ioredis: Cluster; nodeRedis: RedisClusterType } | undefined;

  const redisKind = (kind: ClientKind): KindSpec => ({
    name: `RedisStore (${kind})`,
    needs: 'redis',
    shared: true,
    make: async () => {
      await redisCli(redis!.port, 'FLUSHALL');
      const extra: AppClient[] = [];
      return {
        store: new RedisStore({ client: standalone.get(kind)!.client }),
        another: async () => {
          const client = await connectClient(kind, redis!);
          extra.push(client);
          return new RedisStore({ client: client.client });
        },
        close: async () => {
          await Promise.all(extra.map((client) => client.close()));
        },
      };
    },
  });

  const clusterKind = (kind: ClientKind): KindSpec => ({
    name: `RedisStore (${kind} cluster)`,
    needs: 'cluster',
    shared: true,
    make: async () => {
      await Promise.all(cluster!.nodes.map((node) => redisCli(node.port, 'FLUSHALL')));
      const extra: (() => Promise<void>)[] = [];
      const client = kind === 'ioredis' ? clusterClients!.ioredis : clusterClients!.nodeRedis;
      return {
        store: new RedisStore({ client: client as unknown as RedisStoreClient }),
        another: async () => {
          const own = await connectCluster(kind, cluster!);
          extra.push(own.close);
          return new RedisStore({ client: own.client });
        },
        close: async () => {
          await Promise.all(extra.map((close) => close()));
        },
      };
    },
  });

  const typeormKind = (name: string, database: Database, needs?: Service): KindSpec => ({
    name: `TypeOrmStore (${name})`,
    needs,
    make: async () => {
      const dataSource = await database.open({ entities: [SessionEntity] });
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

  const all: KindSpec[] = [
    {
      name: 'MemoryStore',
      make: async () => {
        const store = new MemoryStore();
        return { store, close: async () => store.close() };
      },
    },
    redisKind('ioredis'),
    redisKind('node-redis'),
    clusterKind('ioredis'),
    clusterKind('node-redis'),
    typeormKind(
      'PostgreSQL',
      postgres(() => pg!),
      'postgres',
    ),
    typeormKind('SQLite', sqlite),
  ];
  const only = process.env.E2E_STORES ? new RegExp(process.env.E2E_STORES) : undefined;
  const selected = all.filter((kind) => !only || only.test(kind.name));
  const needed = new Set(selected.map((kind) => kind.needs));

  beforeAll(async () => {
    if (needed.has('redis')) {
      redis = await startRedisServer();
      for (const kind of ['ioredis', 'node-redis'] as const)
        standalone.set(kind, await connectClient(kind, redis));
    }
    if (needed.has('cluster')) {
      cluster = await startRedisCluster(3);
      const [io, node] = await Promise.all([
        connectCluster('ioredis', cluster),
        connectCluster('node-redis', cluster),
      ]);
      clusterClients = {
        ioredis: io.client as unknown as Cluster,
        nodeRedis: node.client as unknown as RedisClusterType,
      };
    }
    if (needed.has('postgres')) pg = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    for (const client of standalone.values()) await client.close();
    clusterClients?.ioredis.disconnect();
    clusterClients?.nodeRedis.destroy();
    await redis?.dispose();
    await cluster?.dispose();
    await pg?.stop();
  }, 60_000);

  return selected.map(({ name, shared = false, make }) => ({ name, shared, make }));
}

/** A cluster client of either library, connected to every master of `cluster`. */
async function connectCluster(
  kind: ClientKind,
  cluster: RedisCluster,
): Promise<{ client: RedisStoreClient; close(): Promise<void> }> {
  if (kind === 'ioredis') {
    const client = new Cluster(cluster.seeds);
    client.on('error', () => undefined);
    await once(client, 'ready');
    return { client, close: async () => client.disconnect() };
  }
  const client = createCluster({
    rootNodes: cluster.seeds.map(({ host, port }) => ({ socket: { host, port } })),
  });
  client.on('error', () => undefined);
  await client.connect();
  return {
    client: client as unknown as RedisStoreClient,
    close: async () => client.destroy(),
  };
}

/** Every store on every platform: `[store name, platform, kind]`, for `describe.each`. */
export function onEveryPlatform(kinds: StoreKind[]): [string, Platform, StoreKind][] {
  return kinds.flatMap((kind) =>
    PLATFORMS.map((platform): [string, Platform, StoreKind] => [kind.name, platform, kind]),
  );
}

/** What {@link appPerTest} starts before each test. */
export interface AppEnv {
  t: TestApp;
  store: SessionStore;
  made: MadeStore;
  /**
   * Starts another app on `store` (the same store, or `made.another()`'s), with `options` over
   * the block's own; closed after the test.
   */
  start(store: SessionStore, options?: Partial<SessionModuleOptions>): Promise<TestApp>;
}

export interface AppSetup {
  options: Partial<SessionModuleOptions>;
  controllers: Type[];
  providers?: Provider[];
  configure?: (app: INestApplication) => void;
}

/**
 * For one describe block: a fresh store of `kind` and an app on `platform` with it, started
 * before each test and stopped after it.
 */
export function appPerTest(kind: StoreKind, platform: Platform, setup: AppSetup): AppEnv {
  const env = {} as AppEnv;
  const apps: TestApp[] = [];
  env.start = async (store, own = {}) => {
    const { options, controllers, providers, configure } = setup;
    const t = await startApp({ ...options, ...own, store }, controllers, {
      platform,
      providers,
      configure,
    });
    apps.push(t);
    return t;
  };
  beforeEach(async () => {
    env.made = await kind.make();
    env.store = env.made.store;
    env.t = await env.start(env.store);
  });
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    await env.made?.close();
  });
  return env;
}

// ---------------------------------------------------------------------------------------------
// Clients

/** The header the session-header suite names in the `header` option. */
export const SESSION_HEADER = 'X-Session-Token';

/**
 * One client of an app, keeping its session as a browser keeps a cookie (`via: 'cookie'`) or as
 * an API client keeps the session header of the last response that carried one
 * (`via: 'header'`, which ignores Set-Cookie and never sends a Cookie). A response that clears it (an expired
 * Set-Cookie, an empty header) makes the client forget it; a client that was never told keeps
 * sending what it has, as a signed-out device does.
 */
export class Device {
  cookie: string | undefined;
  token: string | undefined;

  constructor(
    public app: TestApp,
    private readonly via: 'cookie' | 'header' = 'cookie',
    private readonly header = SESSION_HEADER,
  ) {}

  get(path: string): Promise<Response> {
    return this.send('get', path);
  }

  post(path: string, body: object = {}): Promise<Response> {
    return this.send('post', path, body);
  }

  /** The session as the app's `/read` shows it to this client. */
  async read(): Promise<{ id: string; data: Record<string, unknown> }> {
    const res = await this.get('/read');
    expect(res.status).toBe(200);
    return res.body as { id: string; data: Record<string, unknown> };
  }

  private async send(method: 'get' | 'post', path: string, body?: object): Promise<Response> {
    const req = this.app.http()[method](path);
    if (this.via === 'cookie' && this.cookie) void req.set('Cookie', this.cookie);
    if (this.via === 'header' && this.token !== undefined) void req.set(this.header, this.token);
    const res = await (body === undefined ? req : req.send(body));
    this.remember(res);
    return res;
  }

  private remember(res: Response): void {
    const line = setCookies(res)['connect.sid'];
    if (this.via === 'cookie' && line !== undefined) {
      const pair = line.slice(0, line.indexOf(';'));
      this.cookie = pair === 'connect.sid=' ? undefined : pair;
    }
    const token = res.headers[this.header.toLowerCase()] as string | undefined;
    if (this.via === 'header' && token !== undefined) this.token = token === '' ? undefined : token;
  }
}

/** Whether a response clears the session cookie (an `Expires` at the epoch). */
export function clearsCookie(res: Response): boolean {
  return /^connect\.sid=;.*Expires=Thu, 01 Jan 1970 00:00:00 GMT/.test(
    setCookies(res)['connect.sid'] ?? '',
  );
}

/**
 * The signed value of session `id` (`s:<id>.<signature>`, not URL-encoded), computed here with
 * node:crypto, independently of lib/.
 */
export function signedValue(id: string, secret = SECRET): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `s:${id}.${mac}`;
}

// ---------------------------------------------------------------------------------------------
// Records

/** The stored record of `id`, or `null`. */
export async function record(store: SessionStore, id: string): Promise<StoredSession | null> {
  return ((await store.get(id)) ?? null) as StoredSession | null;
}

/** Reads the record of `id`, lets `edit` change its cookie, and writes it back with `set`. */
export async function rewrite(
  store: SessionStore,
  id: string,
  edit: (cookie: StoredCookie) => void,
): Promise<StoredSession> {
  const stored = await record(store, id);
  if (!stored) throw new Error(`no stored session ${id} to rewrite`);
  edit(stored.cookie);
  await store.set(id, stored);
  return stored;
}

/**
 * Makes the record of `id` as it would be `ms` later with no request in between: its creation,
 * its last activity and its expiry all move `ms` into the past.
 */
export function age(store: SessionStore, id: string, ms: number): Promise<StoredSession> {
  return rewrite(store, id, (cookie) => {
    expect(typeof cookie.touchedAt).toBe('number');
    expect(typeof cookie.createdAt).toBe('number');
    cookie.touchedAt! -= ms;
    cookie.createdAt! -= ms;
    if (cookie.expires) cookie.expires = new Date(Date.parse(String(cookie.expires)) - ms);
  });
}

/** Rewrites the record of `id` with a cookie that expired a second ago. */
export function expire(store: SessionStore, id: string): Promise<StoredSession> {
  return rewrite(store, id, (cookie) => {
    cookie.expires = new Date(Date.now() - 1_000);
  });
}

/** The ids the store's own index lists for `user`, sorted. */
export async function indexedIds(store: SessionStore, user: string): Promise<string[]> {
  const found = (await store.findByUser!(user)) as IndexedSession[];
  return found.map((entry) => entry.id).sort();
}
