import { randomBytes } from 'node:crypto';
import { AccountController, userIdOf } from '../src/account.controller';
import { Gate, GateController } from '../src/gate.controller';
import { SessionController } from '../src/session.controller';
import { SECRET, type TestApp } from '../support/app';
import { holdAtGate } from '../support/gate';
import {
  age,
  appPerTest,
  clearsCookie,
  Device,
  everyStore,
  expire,
  indexedIds,
  onEveryPlatform,
  record,
} from '../support/session-matrix';

/** One entry of `findByUser()`, as the JSON of a response carries it. */
interface Listed {
  handle: string;
  current: boolean;
  createdAt: string;
  lastActiveAt: string;
  expiresAt: string | null;
  data: Record<string, unknown>;
}

/** A device that signed in, with the id of the session it got. */
type SignedIn = Device & { id: string };

const STORES = everyStore();

/**
 * API.md, "A user's sessions: list them, sign out everywhere": with the `userId` option, every
 * store keeps an index from a user to that user's live sessions, which SessionService lists and
 * ends, and ending a session that way is final.
 */
describe.each(onEveryPlatform(STORES))('a user’s sessions (%s, %s)', (_name, platform, kind) => {
  const gate = new Gate();
  const env = appPerTest(kind, platform, {
    options: { userId: userIdOf },
    controllers: [AccountController, SessionController, GateController],
    providers: [{ provide: Gate, useValue: gate }],
  });

  /** A new client of `app` that signs in as `user` on `device`. */
  const signIn = async (user: string, device: string, app: TestApp = env.t): Promise<SignedIn> => {
    const client = new Device(app);
    const res = await client.post('/account/sign-in', { user, device });
    expect(res.status).toBe(200);
    return Object.assign(client, { id: res.body.id as string });
  };

  /** The signed-in user's sessions, as `client` is shown them. */
  const list = async (client: Device): Promise<Listed[]> => {
    const res = await client.get('/account/sessions');
    expect(res.status).toBe(200);
    return res.body as Listed[];
  };

  /** The handle of `client`'s own session: the listed one marked current. */
  const handleOf = async (client: Device): Promise<string> => {
    const own = (await list(client)).filter((entry) => entry.current);
    expect(own).toHaveLength(1);
    return own[0]!.handle;
  };

  const devicesIn = (listed: Listed[]) => listed.map((entry) => entry.data.device);

  /** What the app gives `client` now: its session id and who is signed in. */
  const me = async (client: Device) => {
    const res = await client.get('/account/me');
    expect(res.status).toBe(200);
    return res.body as { id: string; userId: string | null; data: Record<string, unknown> };
  };

  /** `client` still has its session, signed in as `user`. */
  const expectSignedIn = async (client: SignedIn, user: string) => {
    expect(await me(client)).toMatchObject({ id: client.id, userId: user });
  };

  /** `client`'s session is over: its next request gets a fresh, empty session. */
  const expectSignedOut = async (client: SignedIn) => {
    const now = await me(client);
    expect(now.id).not.toBe(client.id);
    expect(now.userId).toBeNull();
    expect(now.data).toEqual({});
    expect(await record(env.store, client.id)).toBeNull();
  };

  it('lists the user’s sessions: each once, the caller’s marked current, newest activity first, no session id', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const tablet = await signIn('ada', 'tablet');
    const desktop = await signIn('bob', 'desktop');
    // Their last activity, made distinct by ageing the records: the phone was used last.
    await age(env.store, laptop.id, 180_000);
    await age(env.store, tablet.id, 120_000);
    await age(env.store, phone.id, 60_000);

    const res = await laptop.get('/account/sessions');
    expect(res.status).toBe(200);
    const listed = res.body as Listed[];
    expect(devicesIn(listed)).toEqual(['phone', 'tablet', 'laptop']);
    expect(listed.map((entry) => entry.current)).toEqual([false, false, true]);
    for (const [entry, client, device] of [
      [listed[0]!, phone, 'phone'],
      [listed[1]!, tablet, 'tablet'],
      [listed[2]!, laptop, 'laptop'],
    ] as const) {
      expect(Object.keys(entry).sort()).toEqual([
        'createdAt',
        'current',
        'data',
        'expiresAt',
        'handle',
        'lastActiveAt',
      ]);
      expect(entry.handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(entry.data).toEqual({ userId: 'ada', device });
      const stored = (await record(env.store, client.id))!;
      expect(entry.lastActiveAt).toBe(new Date(stored.cookie.touchedAt!).toISOString());
      expect(entry.createdAt).toBe(new Date(stored.cookie.createdAt!).toISOString());
      expect(entry.expiresAt).toBe(new Date(String(stored.cookie.expires)).toISOString());
    }
    expect(new Set(listed.map((entry) => entry.handle)).size).toBe(3);
    // Neither an id nor a cookie value, in any form: the page may be cached or logged.
    for (const client of [laptop, phone, tablet, desktop]) {
      expect(res.text).not.toContain(client.id);
      expect(res.text).not.toContain(decodeURIComponent(client.cookie!.split('=')[1]!));
    }

    // The same sessions, under the same handles, seen from another of them.
    const fromPhone = await list(phone);
    expect(devicesIn(fromPhone)).toEqual(['phone', 'tablet', 'laptop']);
    expect(fromPhone.map((entry) => entry.current)).toEqual([true, false, false]);
    expect(fromPhone.map((entry) => entry.handle)).toEqual(listed.map((entry) => entry.handle));

    const bobs = await list(desktop);
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ current: true, data: { userId: 'bob', device: 'desktop' } });
    expect(listed.map((entry) => entry.handle)).not.toContain(bobs[0]!.handle);
  });

  it('signs out every other device (destroyByUser with except: "current"), and keeps the caller', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const tablet = await signIn('ada', 'tablet');
    const desktop = await signIn('bob', 'desktop');

    const res = await laptop.post('/account/sign-out-others');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ended: 2 });
    expect(clearsCookie(res)).toBe(false);

    await expectSignedOut(phone);
    await expectSignedOut(tablet);
    await expectSignedIn(laptop, 'ada');
    await expectSignedIn(desktop, 'bob');
    const left = await list(laptop);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ current: true, data: { device: 'laptop' } });
    expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
    expect(await indexedIds(env.store, 'bob')).toEqual([desktop.id]);
  });

  it('signs out one device by its handle, once', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const handle = await handleOf(phone);

    const res = await laptop.post('/account/sign-out-device', { handle });
    expect(res.body).toEqual({ ended: true });
    expect(clearsCookie(res)).toBe(false);
    await expectSignedOut(phone);
    await expectSignedIn(laptop, 'ada');
    expect(devicesIn(await list(laptop))).toEqual(['laptop']);
    // Already ended: there is no such session any more.
    expect((await laptop.post('/account/sign-out-device', { handle })).body).toEqual({
      ended: false,
    });
  });

  it('refuses (false) another user’s handle, and a forged or malformed one', async () => {
    const laptop = await signIn('ada', 'laptop');
    const desktop = await signIn('bob', 'desktop');
    const bobsHandle = await handleOf(desktop);
    const adasHandle = await handleOf(laptop);
    const refused = [
      bobsHandle,
      randomBytes(32).toString('base64url'),
      adasHandle.slice(0, -1) + (adasHandle.endsWith('A') ? 'B' : 'A'),
      `${adasHandle}A`,
      adasHandle.slice(1),
      '',
      'x',
      123,
      null,
    ];
    for (const handle of refused) {
      const res = await laptop.post('/account/sign-out-device', { handle });
      expect([handle, res.status, res.body]).toEqual([handle, 200, { ended: false }]);
    }
    await expectSignedIn(laptop, 'ada');
    await expectSignedIn(desktop, 'bob');
    expect(await list(desktop)).toHaveLength(1);
    expect(await list(laptop)).toHaveLength(1);
  });

  it('a handle shown before the secrets rotated still signs out its device', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const shown = await handleOf(phone);
    // The same store, with a new first secret; the old one still verifies the cookies.
    laptop.app = await env.start(env.store, { secret: ['a rotated secret', SECRET] });
    const listed = await list(laptop);
    expect(devicesIn(listed).sort()).toEqual(['laptop', 'phone']);
    expect(listed.map((entry) => entry.handle)).not.toContain(shown);
    expect((await laptop.post('/account/sign-out-device', { handle: shown })).body).toEqual({
      ended: true,
    });
    await expectSignedOut(phone);
    await expectSignedIn(laptop, 'ada');
  });

  it('signing out this very device by its handle ends the caller’s session, and its response clears the cookie', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const cookie = laptop.cookie!;
    const res = await laptop.post('/account/sign-out-device', { handle: await handleOf(laptop) });
    expect(res.body).toEqual({ ended: true });
    expect(clearsCookie(res)).toBe(true);
    expect(await record(env.store, laptop.id)).toBeNull();
    // Even a client that kept the cookie gets a fresh session with it.
    laptop.cookie = cookie;
    await expectSignedOut(laptop);
    expect(devicesIn(await list(phone))).toEqual(['phone']);
  });

  it('a logout (destroy()) takes the session off the list', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    expect(await list(laptop)).toHaveLength(2);
    const res = await phone.post('/account/logout');
    expect(clearsCookie(res)).toBe(true);
    expect(devicesIn(await list(laptop))).toEqual(['laptop']);
    expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
  });

  it('signing in as another user moves the session to that user; so does a change of user without a new id', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const before = phone.id;
    const res = await phone.post('/account/sign-in', { user: 'bob', device: 'phone' });
    phone.id = res.body.id as string;
    expect(phone.id).not.toBe(before);
    expect(await record(env.store, before)).toBeNull();
    expect(devicesIn(await list(laptop))).toEqual(['laptop']);
    const bobs = await list(phone);
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ current: true, data: { userId: 'bob', device: 'phone' } });
    expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
    expect(await indexedIds(env.store, 'bob')).toEqual([phone.id]);

    // The same session, now carol's: written under her, it leaves ada's index.
    await laptop.post('/set', { userId: 'carol' });
    expect((await me(laptop)).id).toBe(laptop.id);
    expect(await indexedIds(env.store, 'ada')).toEqual([]);
    expect(await indexedIds(env.store, 'carol')).toEqual([laptop.id]);
    expect((await laptop.get('/account/users/ada/sessions')).body).toEqual([]);
    expect(await list(laptop)).toEqual([
      expect.objectContaining({ current: true, data: { userId: 'carol', device: 'laptop' } }),
    ]);
  });

  it('a session signed out by a change of user (userId undefined) leaves the index', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    await phone.post('/unset/userId');
    expect(await me(phone)).toMatchObject({ id: phone.id, userId: null });
    expect(devicesIn(await list(laptop))).toEqual(['laptop']);
    expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
  });

  it('an expired session is not listed, nor counted by destroyByUser', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const tablet = await signIn('ada', 'tablet');
    await expire(env.store, phone.id);
    expect(devicesIn(await list(laptop)).sort()).toEqual(['laptop', 'tablet']);
    expect(await indexedIds(env.store, 'ada')).not.toContain(phone.id);
    expect((await laptop.post('/account/sign-out-others')).body).toEqual({ ended: 1 });
    await expectSignedOut(tablet);
    await expectSignedOut(phone);
    await expectSignedIn(laptop, 'ada');
  });

  it('a numeric user id is the same user as its text', async () => {
    const client = new Device(env.t);
    await client.post('/account/sign-in', { user: 42, device: 'kiosk' });
    const listed = await list(client);
    expect(listed).toEqual([expect.objectContaining({ current: true })]);
    expect((await client.get('/account/users/42/sessions')).body).toEqual([
      expect.objectContaining({ handle: listed[0]!.handle, current: true }),
    ]);
  });

  it.each([
    ['sign-out-others', 'all but the caller'],
    ['sign-out-device', 'one by its handle'],
  ])(
    'ending is final: a request in flight when %s (%s) ended its session cannot bring it back',
    async (route) => {
      const laptop = await signIn('ada', 'laptop');
      const phone = await signIn('ada', 'phone');
      const body = route === 'sign-out-device' ? { handle: await handleOf(phone) } : {};
      // The phone's request has loaded its session, and changes it only after it was ended.
      const finish = await holdAtGate(gate, env.t, phone.cookie!, 'set', { cart: ['book'] });
      const ended = await laptop.post(`/account/${route}`, body);
      expect(ended.body).toEqual({ ended: route === 'sign-out-device' ? true : 1 });
      const late = await finish();
      expect(late.status).toBe(200);
      expect(clearsCookie(late)).toBe(true);
      expect(await record(env.store, phone.id)).toBeNull();
      expect(await indexedIds(env.store, 'ada')).toEqual([laptop.id]);
      expect(devicesIn(await list(laptop))).toEqual(['laptop']);
      await expectSignedOut(phone);
    },
  );

  it('destroyByUser without except, from the user’s own request, ends every session, the caller’s too', async () => {
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const tablet = await signIn('ada', 'tablet');
    const desktop = await signIn('bob', 'desktop');
    const cookie = laptop.cookie!;

    const res = await laptop.post('/account/sign-out-everywhere');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ended: 3 });
    expect(clearsCookie(res)).toBe(true);
    laptop.cookie = cookie;
    for (const client of [laptop, phone, tablet]) await expectSignedOut(client);
    expect(await indexedIds(env.store, 'ada')).toEqual([]);
    await expectSignedIn(desktop, 'bob');
  });

  it('destroyByUser of another user (an admin’s) ends that user’s sessions and leaves the caller’s', async () => {
    const admin = await signIn('bob', 'desktop');
    const laptop = await signIn('ada', 'laptop');
    const phone = await signIn('ada', 'phone');
    const res = await admin.post('/account/users/ada/sign-out');
    expect(res.body).toEqual({ ended: 2 });
    expect(clearsCookie(res)).toBe(false);
    await expectSignedOut(laptop);
    await expectSignedOut(phone);
    await expectSignedIn(admin, 'bob');
  });

  if (kind.shared) {
    it('two app instances on one Redis see each other’s sign-ins, and end each other’s sessions', async () => {
      const other = await env.start(await env.made.another!());
      const laptop = await signIn('ada', 'laptop');
      const phone = await signIn('ada', 'phone', other);
      expect(devicesIn(await list(laptop)).sort()).toEqual(['laptop', 'phone']);
      const seenByOther = await list(phone);
      expect(seenByOther.find((entry) => entry.current)?.data.device).toBe('phone');
      expect(seenByOther).toHaveLength(2);

      expect((await phone.post('/account/sign-out-others')).body).toEqual({ ended: 1 });
      await expectSignedOut(laptop);
      expect(devicesIn(await list(phone))).toEqual(['phone']);
      // And the first instance sees the phone's session, the only one left.
      const viaFirst = await env.t.http().get('/account/users/ada/sessions').expect(200);
      expect(devicesIn(viaFirst.body as Listed[])).toEqual(['phone']);
    });
  }
});
