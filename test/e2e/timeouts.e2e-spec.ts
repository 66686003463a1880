import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import type { SessionModuleOptions } from '../../lib';
import { AccountController, userIdOf } from '../src/account.controller';
import { SessionController } from '../src/session.controller';
import {
  SignedInGuard,
  sessionGateways,
  type SessionReply,
  type Transport,
} from '../src/websocket/session.gateway';
import type { Platform } from '../support/app';
import {
  age,
  appPerTest,
  Device,
  everyStore,
  indexedIds,
  onEveryPlatform,
  record,
  type AppEnv,
  type AppSetup,
  type StoreKind,
} from '../support/session-matrix';
import { connectSocket } from '../websocket/socket-client';

// Every case is made deterministic by ageing the stored record (its creation, last activity and
// expiry moved into the past, as if that much time had gone by) instead of by waiting.

const IDLE = 60_000;
const ABSOLUTE = 60_000;

const STORES = everyStore();

/** The suite's app: the account routes and `/read`, the gateways of `transport`. */
function setup(options: Partial<SessionModuleOptions>, transport: Transport = 'ws'): AppSetup {
  return {
    options: { userId: userIdOf, ...options },
    controllers: [AccountController, SessionController],
    providers: [...sessionGateways(transport), SignedInGuard],
    configure: (app: INestApplication) =>
      app.useWebSocketAdapter(transport === 'ws' ? new WsAdapter(app) : new IoAdapter(app)),
  };
}

/** A new client of the app that signs in as `user`, with the id of the session it got. */
async function signIn(env: AppEnv, user = 'ada', device = 'laptop') {
  const client = new Device(env.t);
  const res = await client.post('/account/sign-in', { user, device });
  expect(res.status).toBe(200);
  return Object.assign(client, { id: res.body.id as string });
}

/**
 * Makes a request of `client` and checks that it still had its session: same id, same user, and
 * (when `touched`) that the request moved the stored last activity to its own time.
 */
async function expectAlive(env: AppEnv, client: Device & { id: string }, touched = true) {
  const before = Date.now();
  const now = await client.read();
  expect(now).toMatchObject({ id: client.id, data: { userId: 'ada' } });
  if (touched)
    expect((await record(env.store, client.id))!.cookie.touchedAt).toBeGreaterThanOrEqual(before);
}

/** The client's session is over: its next request has a fresh, empty one, and the record is gone. */
async function expectOver(env: AppEnv, client: Device & { id: string }) {
  const now = await client.read();
  expect(now.id).not.toBe(client.id);
  expect(now.data).toEqual({});
  expect(await record(env.store, client.id)).toBeNull();
  expect(await indexedIds(env.store, 'ada')).not.toContain(client.id);
}

describe.each(onEveryPlatform(STORES))('session timeouts (%s, %s)', (_name, platform, kind) => {
  describe(`idleTimeout: ${IDLE} ms`, () => {
    const env = appPerTest(kind, platform, setup({ idleTimeout: IDLE }));

    it('a session unused for idleTimeout is over: a fresh session, the record removed from the store and the index', async () => {
      const laptop = await signIn(env);
      const phone = await signIn(env, 'ada', 'phone');
      await age(env.store, laptop.id, IDLE + 1_000);
      await expectOver(env, laptop);
      expect(await indexedIds(env.store, 'ada')).toEqual([phone.id]);
      await expectAlive(env, phone, false);
    });

    it('a session in use lives on past idleTimeout: each request moves its last activity', async () => {
      const laptop = await signIn(env);
      // Three times two thirds of the idle timeout, with a request in between each.
      for (let i = 0; i < 3; i++) {
        await age(env.store, laptop.id, (IDLE * 2) / 3);
        await expectAlive(env, laptop);
      }
    });

    it('listing the user’s sessions leaves out an idle one, and ends it', async () => {
      const laptop = await signIn(env);
      const phone = await signIn(env, 'ada', 'phone');
      await age(env.store, phone.id, IDLE + 1_000);
      const res = await laptop.get('/account/sessions');
      expect(res.status).toBe(200);
      expect(res.body).toEqual([expect.objectContaining({ current: true })]);
      // Ended by the listing, before the phone came back.
      expect(await record(env.store, phone.id)).toBeNull();
      expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
      await expectOver(env, phone);
    });

    it('signing out the other devices does not count one already over its idle timeout', async () => {
      const laptop = await signIn(env);
      const phone = await signIn(env, 'ada', 'phone');
      const tablet = await signIn(env, 'ada', 'tablet');
      await age(env.store, phone.id, IDLE + 1_000);
      // The list shows one other device (the tablet): signing out the others ends that one.
      expect((await laptop.get('/account/sessions')).body).toHaveLength(2);
      expect((await laptop.post('/account/sign-out-others')).body).toEqual({ ended: 1 });
      await expectOver(env, tablet);
      await expectOver(env, phone);
      await expectAlive(env, laptop, false);
    });

    it('destroyByUser does not count a session over its idle timeout that nothing read since', async () => {
      const laptop = await signIn(env);
      const phone = await signIn(env, 'ada', 'phone');
      await age(env.store, phone.id, IDLE + 1_000);
      // No listing first: the over session is still in the store when destroyByUser runs.
      expect((await laptop.post('/account/sign-out-others')).body).toEqual({ ended: 0 });
      await expectOver(env, phone);
      await expectAlive(env, laptop, false);
    });

    it('a WebSocket gateway loading an idle session gets a fresh one, and the record is removed', async () => {
      const laptop = await signIn(env);
      const live = await connectSocket('ws', env.t.url, '', laptop.cookie);
      const seen = (await live.send<SessionReply>('read')).data;
      await live.close();
      expect(seen).toMatchObject({ id: laptop.id, data: { userId: 'ada' } });

      await age(env.store, laptop.id, IDLE + 1_000);
      const socket = await connectSocket('ws', env.t.url, '', laptop.cookie);
      try {
        const reply = await socket.send<SessionReply>('read');
        expect(reply.event).toBe('read:done');
        expect(reply.data.id).not.toBe(laptop.id);
        expect(reply.data.data).toEqual({});
      } finally {
        await socket.close();
      }
      expect(await record(env.store, laptop.id)).toBeNull();
      expect(await indexedIds(env.store, 'ada')).toEqual([]);
    });
  });

  describe(`absoluteTimeout: ${ABSOLUTE} ms, with idleTimeout: ${IDLE / 2} ms`, () => {
    const env = appPerTest(
      kind,
      platform,
      setup({ idleTimeout: IDLE / 2, absoluteTimeout: ABSOLUTE }),
    );
    const STEP = (IDLE / 2) * (5 / 6);

    it('ends a session in constant use once it is absoluteTimeout old', async () => {
      const laptop = await signIn(env);
      // In use every STEP (well within the idle timeout): alive, until it is ABSOLUTE old.
      await age(env.store, laptop.id, STEP);
      await expectAlive(env, laptop);
      await age(env.store, laptop.id, STEP);
      await expectAlive(env, laptop);
      // Last used one STEP ago (within the idle timeout), created three STEPs (past ABSOLUTE) ago.
      const stored = await age(env.store, laptop.id, STEP);
      expect(stored.cookie.touchedAt! - stored.cookie.createdAt!).toBeGreaterThanOrEqual(2 * STEP);
      await expectOver(env, laptop);
    });

    it('regenerate() restarts the absolute clock', async () => {
      const laptop = await signIn(env);
      await age(env.store, laptop.id, STEP);
      await expectAlive(env, laptop);
      await age(env.store, laptop.id, STEP);
      // A new login (regenerate) when the session is 2 × STEP old: a new session, a new clock.
      const before = Date.now();
      const res = await laptop.post('/account/sign-in', { user: 'ada', device: 'laptop' });
      expect(res.body.before).toBe(laptop.id);
      const old = laptop.id;
      laptop.id = res.body.id as string;
      expect(laptop.id).not.toBe(old);
      expect(await record(env.store, old)).toBeNull();
      expect((await record(env.store, laptop.id))!.cookie.createdAt).toBeGreaterThanOrEqual(before);
      // 4 × STEP after the first login: over by the old clock, alive by the new one.
      await age(env.store, laptop.id, STEP);
      await expectAlive(env, laptop);
      await age(env.store, laptop.id, STEP);
      await expectAlive(env, laptop);
      await age(env.store, laptop.id, STEP);
      await expectOver(env, laptop);
    });
  });

  describe(`a browser-session cookie (cookie.maxAge: null) with idleTimeout: ${IDLE} ms`, () => {
    const env = appPerTest(kind, platform, setup({ idleTimeout: IDLE, cookie: { maxAge: null } }));

    it('is over once unused for idleTimeout, though its cookie never expires', async () => {
      const laptop = await signIn(env);
      expect((await record(env.store, laptop.id))!.cookie.expires ?? null).toBeNull();
      await age(env.store, laptop.id, (IDLE * 2) / 3);
      await expectAlive(env, laptop);
      await age(env.store, laptop.id, IDLE + 1_000);
      await expectOver(env, laptop);
    });
  });
});

/** The socket.io transport loads the session in its handshake: the same rule holds there. */
const memory = STORES.filter((kind) => kind.name === 'MemoryStore');
const SOCKET_IO: [Platform, StoreKind][] = memory.flatMap((kind) =>
  (['express', 'fastify'] as const).map((platform): [Platform, StoreKind] => [platform, kind]),
);
if (SOCKET_IO.length > 0) {
  describe.each(SOCKET_IO)(
    'an idle session in a socket.io gateway (MemoryStore, %s)',
    (platform, kind) => {
      const env = appPerTest(kind, platform, setup({ idleTimeout: IDLE }, 'socket.io'));

      it('gets a fresh session, and the record is removed', async () => {
        const laptop = await signIn(env);
        const live = await connectSocket('socket.io', env.t.url, '', laptop.cookie);
        expect((await live.send<SessionReply>('read')).data).toMatchObject({ id: laptop.id });
        await live.close();
        await age(env.store, laptop.id, IDLE + 1_000);
        const socket = await connectSocket('socket.io', env.t.url, '', laptop.cookie);
        try {
          const reply = await socket.send<SessionReply>('read');
          expect(reply.data.id).not.toBe(laptop.id);
          expect(reply.data.data).toEqual({});
        } finally {
          await socket.close();
        }
        expect(await record(env.store, laptop.id)).toBeNull();
      });
    },
  );
}
