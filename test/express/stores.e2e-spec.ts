import { Body, Controller, Get, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import express from 'express';
import expressSession from 'express-session';
import Redis from 'ioredis';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createClient, type RedisClientType } from 'redis';
import request from 'supertest';
import session from '../../lib/express';
import type { StoredSession } from '../../lib/core/stored-session';
import { RedisStore } from '../../lib/redis';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { cookieOf, listen, mapStoreOn, QUIET, type RunningApp } from './support';

type Data = Record<string, unknown>;

/** 200 from Express, 201 from a Nest @Post(). */
const succeeded = (res: { status: number }) => expect([200, 201]).toContain(res.status);
type Callback<T = unknown> = (err?: unknown, value?: T) => void;
/** What every store here answers, called back as express-session calls it. */
type AnyStore = {
  get(sid: string, callback: Callback<StoredSession | null>): unknown;
  set(sid: string, session: unknown, callback?: Callback): unknown;
  destroy(sid: string, callback?: Callback): unknown;
};

/** A store written against `@tessera/session/express`'s Store: callbacks only, on a Map. */
const MapStore = mapStoreOn(session.Store);

let server: RedisServer;
let ioredis: Redis;
let nodeRedis: RedisClientType;

beforeAll(async () => {
  server = await startRedisServer();
  ioredis = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
  ioredis.on('error', () => undefined);
  await once(ioredis, 'ready');
  nodeRedis = createClient({ socket: { host: server.host, port: server.port } });
  nodeRedis.on('error', () => undefined);
  await nodeRedis.connect();
});

afterAll(async () => {
  ioredis?.disconnect();
  nodeRedis?.destroy();
  await server?.dispose();
});

beforeEach(() => ioredis.flushall());

/** The stores the drop-in is run with: its own, Tessera's Redis one, and connect-redis. */
const STORES: [string, () => AnyStore & { close?(): void }][] = [
  ['MemoryStore', () => new session.MemoryStore({ sweepInterval: 0 })],
  ['RedisStore', () => new RedisStore({ client: ioredis })],
  ['connect-redis', () => new ConnectRedisStore({ client: nodeRedis }) as unknown as AnyStore],
];

const stored = (store: AnyStore, sid: string) =>
  new Promise<StoredSession | null>((resolve, reject) =>
    store.get(sid, (err, value) => (err ? reject(err as Error) : resolve(value ?? null))),
  );

type SessionOf = Data & {
  regenerate(callback: Callback): unknown;
  destroy(callback: Callback): unknown;
};
const sessionOf = (req: { session?: unknown }) => req.session as SessionOf;
/** A session method with a callback, awaited. */
const settle = (fn: (callback: Callback) => unknown) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err as Error) : resolve())));

/** The app's routes, written once for plain Express and once as a Nest controller. */
const handlers = {
  views(req: { session?: unknown }) {
    const data = sessionOf(req);
    data.views = ((data.views as number | undefined) ?? 0) + 1;
    return { views: data.views };
  },
  async login(req: { session?: unknown; sessionID?: string }, user: string) {
    await settle((cb) => sessionOf(req).regenerate(cb));
    sessionOf(req).user = user;
    return { id: req.sessionID };
  },
  async logout(req: { session?: unknown }) {
    await settle((cb) => sessionOf(req).destroy(cb));
    return { ok: true };
  },
  read(req: { session?: unknown; sessionID?: string }) {
    const { cookie: _cookie, ...data } = sessionOf(req);
    return { id: req.sessionID, data };
  },
};

function expressApp(middleware: express.RequestHandler): Promise<RunningApp> {
  const app = express();
  app.use(express.json());
  app.use(middleware);
  app.get('/views', (req, res) => res.json(handlers.views(req)));
  app.post('/login', (req, res, next) => {
    handlers.login(req, (req.body as { user: string }).user).then((body) => res.json(body), next);
  });
  app.post('/logout', (req, res, next) => {
    handlers.logout(req).then((body) => res.json(body), next);
  });
  app.get('/read', (req, res) => res.json(handlers.read(req)));
  app.post('/set', (req, res) => {
    Object.assign(sessionOf(req), req.body);
    res.json({ id: req.sessionID });
  });
  return listen(app);
}

@Controller()
class SessionController {
  @Get('views')
  views(@Req() req: express.Request) {
    return handlers.views(req);
  }

  @Post('login')
  login(@Req() req: express.Request, @Body() body: { user: string }) {
    return handlers.login(req, body.user);
  }

  @Post('logout')
  logout(@Req() req: express.Request) {
    return handlers.logout(req);
  }

  @Get('read')
  read(@Req() req: express.Request) {
    return handlers.read(req);
  }
}

@Module({ controllers: [SessionController] })
class AppModule {}

/** A Nest app whose main.ts mounts the drop-in, as Nest's documentation shows for express-session. */
async function nestApp(middleware: express.RequestHandler): Promise<RunningApp> {
  const app = await NestFactory.create(AppModule, { logger: false });
  app.use(middleware);
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    url,
    http: () => request(url),
    browser: () => request.agent(url),
    close: () => app.close(),
  };
}

describe.each([
  ['a plain Express 5 app', expressApp],
  ["a Nest app's main.ts", nestApp],
])('the drop-in in %s', (_where, startApp) => {
  describe.each(STORES)('with %s', (_name, makeStore) => {
    let store: ReturnType<typeof makeStore>;
    let app: RunningApp;
    beforeEach(async () => {
      store = makeStore();
      app = await startApp(session({ ...QUIET, store: store as never }));
    });
    afterEach(async () => {
      await app.close();
      store.close?.();
    });

    it('keeps a session across requests, signs in with regenerate(), signs out with destroy()', async () => {
      const browser = app.browser();
      expect((await browser.get('/views').expect(200)).body).toEqual({ views: 1 });
      const first = await browser.get('/read').expect(200);
      expect((await browser.get('/views').expect(200)).body).toEqual({ views: 2 });
      expect((await stored(store, first.body.id))?.views).toBe(2);

      const login = await browser.post('/login').send({ user: 'ada' }).expect(succeeded);
      expect(login.body.id).not.toBe(first.body.id);
      expect(await stored(store, first.body.id)).toBeNull();
      expect((await browser.get('/read').expect(200)).body).toEqual({
        id: login.body.id,
        data: { user: 'ada' },
      });

      await browser.post('/logout').expect(succeeded);
      expect(await stored(store, login.body.id)).toBeNull();
      expect((await browser.get('/read').expect(200)).body.data).toEqual({});
    });
  });
});

describe.each([...STORES, ['a store extending Store', () => new MapStore()]] as const)(
  'express-session and the drop-in on one %s',
  (_name, makeStore) => {
    let store: AnyStore & { close?(): void };
    let legacy: RunningApp;
    let tessera: RunningApp;
    beforeEach(async () => {
      store = makeStore();
      legacy = await expressApp(expressSession({ ...QUIET, store: store as never }));
      tessera = await expressApp(session({ ...QUIET, store: store as never }));
    });
    afterEach(async () => {
      await Promise.all([legacy.close(), tessera.close()]);
      store.close?.();
    });

    it.each([
      ['express-session', 'the drop-in', () => [legacy, tessera]],
      ['the drop-in', 'express-session', () => [tessera, legacy]],
    ] as const)(
      'a session made by %s is read and changed by %s, and read back',
      async (_maker, _other, apps) => {
        const [maker, other] = apps();
        const made = await maker.http().post('/set').send({ from: 'maker' }).expect(200);
        const cookie = cookieOf(made);
        const read = await other.http().get('/read').set('Cookie', cookie).expect(200);
        expect(read.body).toEqual({ id: made.body.id, data: { from: 'maker' } });
        await other
          .http()
          .post('/set')
          .set('Cookie', cookie)
          .send({ changed: 'other' })
          .expect(200);
        const back = await maker.http().get('/read').set('Cookie', cookie).expect(200);
        expect(back.body).toEqual({ id: made.body.id, data: { from: 'maker', changed: 'other' } });
        expect(await stored(store, made.body.id)).toMatchObject({
          from: 'maker',
          changed: 'other',
        });
      },
    );
  },
);
