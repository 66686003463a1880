import { Logger, type INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { WsSessionGuard } from '../../lib/websocket';
import { SessionController } from '../src/session.controller';
import {
  SignedInGuard,
  sessionGateways,
  type SessionReply,
  type Transport,
} from '../src/websocket/session.gateway';
import { InstrumentedStore } from '../support/instrumented-store';
import { PLATFORMS, sessionCookie, startApp, type TestApp } from '../support/app';
import { connectSocket, type Reply, type TestSocket } from './socket-client';

const TRANSPORTS: Transport[] = ['socket.io', 'ws'];
const CASES = TRANSPORTS.flatMap((transport) =>
  PLATFORMS.map((platform) => [transport, platform] as const),
);

describe.each(CASES)('sessions in a WebSocket gateway (%s on %s)', (transport, platform) => {
  let t: TestApp;
  let store: InstrumentedStore;
  const sockets: TestSocket[] = [];
  let logged: string[];

  beforeAll(async () => {
    store = new InstrumentedStore();
    t = await startApp({ store }, [SessionController], {
      platform,
      providers: [...sessionGateways(transport), SignedInGuard],
      configure: (app: INestApplication) =>
        app.useWebSocketAdapter(transport === 'ws' ? new WsAdapter(app) : new IoAdapter(app)),
    });
  });
  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
  });
  afterEach(async () => {
    store.failWith = undefined;
    store.getGate = undefined;
    jest.restoreAllMocks();
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
  });
  afterAll(async () => {
    await t.close();
    store.close();
  });

  /** A connected client, closed after the test. */
  const connect = async (gateway: 'default' | 'private', cookie?: string): Promise<TestSocket> => {
    const socket = await connectSocket(
      transport,
      t.url,
      gateway === 'default' ? '' : gateway,
      cookie,
    );
    sockets.push(socket);
    return socket;
  };

  /** A signed-in browser's cookie and session id, made over HTTP. */
  const signIn = async (data: Record<string, unknown> = { user: 'ada' }) => {
    const res = await t.http().post('/set').send(data).expect(200);
    return { cookie: sessionCookie(res), id: res.body.id as string };
  };

  const expectDone = <T = SessionReply>(reply: Reply, event: string): T => {
    expect(reply).toEqual({ event: `${event}:done`, data: expect.anything() });
    return reply.data as T;
  };

  /** The session as the HTTP side sees it with this cookie. */
  const overHttp = async (cookie: string) =>
    (await t.http().get('/read').set('Cookie', cookie).expect(200)).body as {
      id: string;
      data: Record<string, unknown>;
    };

  it('a handler gets the session of the handshake cookie, loaded before the gateway’s handleConnection()', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    const read = expectDone(await socket.send('read'), 'read');
    expect(read).toMatchObject({ id, data: { user: 'ada' }, atConnection: id });
  });

  it('one session object per connection, which SessionService.current() finds too', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    expectDone(await socket.send('set', { draft: 'unsaved' }), 'set');
    const read = expectDone(await socket.send('read'), 'read');
    expect(read).toMatchObject({ same: true, viaService: true, data: { draft: 'unsaved' } });
    // Nothing is written without save(): a socket has no end of request.
    expect(await store.inner.get(id)).not.toHaveProperty('draft');
  });

  it('save() writes the handler’s change; HTTP sees it, and the keys it did not touch are kept', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    expectDone(await socket.send('save', { color: 'blue' }), 'save');
    expect(await overHttp(cookie)).toMatchObject({ id, data: { user: 'ada', color: 'blue' } });
    expectDone(await socket.send('service-save', { size: 'L' }), 'service-save');
    expect((await overHttp(cookie)).data).toEqual({ user: 'ada', color: 'blue', size: 'L' });
  });

  it('a connection opened before a logout over HTTP cannot bring the session back by saving', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    await t.http().post('/logout').set('Cookie', cookie).expect(200);
    expectDone(await socket.send('save', { color: 'blue' }), 'save');
    expect(await store.inner.get(id)).toBeNull();
    const next = await overHttp(cookie);
    expect(next.id).not.toBe(id);
    expect(next.data).toEqual({});
  });

  it('reload() reads into the same object what HTTP changed since the connection opened', async () => {
    const { cookie } = await signIn();
    const socket = await connect('default', cookie);
    await t.http().post('/set').set('Cookie', cookie).send({ user: 'grace' }).expect(200);
    expect(expectDone(await socket.send('read'), 'read').data).toEqual({ user: 'ada' });
    const reloaded = expectDone(await socket.send('reload'), 'reload');
    expect(reloaded).toMatchObject({ same: true, data: { user: 'grace' } });
  });

  it('without a valid cookie the default gateway gives an empty session, for that connection only', async () => {
    const forged = `connect.sid=${encodeURIComponent('s:forged.id')}`;
    for (const cookie of [undefined, forged]) {
      const socket = await connect('default', cookie);
      const read = expectDone(await socket.send('read'), 'read');
      expect(read.data).toEqual({});
      expect(read.id).toEqual(expect.any(String));
    }
  });

  it('missingSession: "refuse" refuses a connection without a valid cookie, and accepts a valid one', async () => {
    const gone = await signIn();
    await store.inner.destroy(gone.id);
    const refusals = [undefined, `connect.sid=${encodeURIComponent('s:forged.id')}`, gone.cookie];
    for (const cookie of refusals) {
      if (transport === 'socket.io') {
        // The handshake itself is refused: the client never joins.
        await expect(connect('private', cookie)).rejects.toThrow('Session required');
      } else {
        const socket = await connect('private', cookie);
        expect(await socket.ended).toEqual({ code: 1008, reason: 'Session required' });
      }
    }
    const { cookie, id } = await signIn();
    const socket = await connect('private', cookie);
    expect(expectDone(await socket.send('read'), 'read').id).toBe(id);
  });

  it('the authenticated-sockets recipe: the app’s guard sees the session and turns away a session without a user', async () => {
    const anonymous = await signIn({ theme: 'dark' });
    const refused = await (await connect('private', anonymous.cookie)).send('read');
    expect(refused).toMatchObject({ event: 'exception', data: { message: 'Sign in first' } });
    const { cookie } = await signIn();
    expectDone(await (await connect('private', cookie)).send('read'), 'read');
  });

  it('destroy() removes the session from the store; later messages have none, and HTTP starts afresh', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    expectDone(await socket.send('destroy'), 'destroy');
    expect(await store.inner.get(id)).toBeNull();
    expect(await socket.send('read')).toEqual({ event: 'read:done', data: null });
    const next = await overHttp(cookie);
    expect(next.id).not.toBe(id);
    expect(next.data).toEqual({});
  });

  it('regenerate() gives the connection a new id no cookie names; the old record is gone', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    const read = expectDone(await socket.send('regenerate'), 'regenerate');
    expect(read.id).not.toBe(id);
    expect(read).toMatchObject({ same: true, data: { regenerated: true } });
    expect(await store.inner.get(id)).toBeNull();
    expect(await store.inner.get(read.id)).toMatchObject({ regenerated: true });
    // The browser's cookie still names the old id: its next HTTP request has a fresh session.
    expect((await overHttp(cookie)).data).toEqual({});
  });

  it('a store failing while a client connects ends that connection with an error; the app keeps serving', async () => {
    const { cookie, id } = await signIn();
    store.failWith = new Error('connection refused');
    if (transport === 'socket.io') {
      await expect(connect('default', cookie)).rejects.toThrow('Session store unavailable');
    } else {
      const socket = await connect('default', cookie);
      expect(await socket.ended).toEqual({ code: 1011, reason: 'Session store unavailable' });
    }
    expect(logged.join('\n')).toContain('connection refused');
    store.failWith = undefined;
    const socket = await connect('default', cookie);
    expect(expectDone(await socket.send('read'), 'read')).toMatchObject({
      id,
      data: { user: 'ada' },
    });
  });

  it('a store failing in a handler answers that message with an error; the connection goes on', async () => {
    const { cookie, id } = await signIn();
    const socket = await connect('default', cookie);
    store.failWith = new Error('disk full');
    expect(await socket.send('save', { lost: true })).toMatchObject({
      event: 'exception',
      data: { status: 'error', message: 'Session store unavailable' },
    });
    expect(logged.join('\n')).toContain('disk full');
    store.failWith = undefined;
    expectDone(await socket.send('save', { kept: true }), 'save');
    expect(await store.inner.get(id)).toMatchObject({ user: 'ada', kept: true });
  });

  if (transport === 'ws') {
    // ws opens the connection before its session is loaded: a message may come first.
    it('a message that comes before the session has loaded waits for it, the app’s guards included', async () => {
      const { cookie, id } = await signIn();
      let release!: () => void;
      store.getGate = new Promise((resolve) => (release = resolve));
      // The store answers only once the message is in the session guard: it must wait.
      const guard = WsSessionGuard.prototype.canActivate;
      jest.spyOn(WsSessionGuard.prototype, 'canActivate').mockImplementation(function (
        this: WsSessionGuard,
        context,
      ) {
        release();
        return guard.call(this, context);
      });
      const socket = await connect('private', cookie);
      const reply = await socket.send('read');
      release();
      expect(expectDone(reply, 'read')).toMatchObject({ id, data: { user: 'ada' } });
    });
  }
});
