import { resolveSessionOptions, type SessionOptions } from './options';
import { SessionEngine } from './session-engine';
import type { IndexedSession, SessionStore } from './session-store';
import type { StoredSession } from './stored-session';

// A fake index: unit tests of the core only. Every store's own index is tested on its backend.
class FakeIndexStore implements SessionStore {
  readonly records = new Map<string, StoredSession>();
  async get(sid: string) {
    return this.records.get(sid) ?? null;
  }
  async set(sid: string, session: StoredSession) {
    this.records.set(sid, session);
  }
  async destroy(sid: string) {
    this.records.delete(sid);
  }
  /** Lists whatever it holds for the user, and a stale entry for someone else: the core checks. */
  async findByUser(): Promise<IndexedSession[]> {
    return [...this.records].map(([id, session]) => ({ id, session }));
  }
  async destroyByUser() {
    return 0;
  }
}

const silent = { error: () => undefined, warn: () => undefined };
const engineWith = (store: SessionStore, options: Partial<SessionOptions> = {}) =>
  new SessionEngine(
    resolveSessionOptions({ secret: 'first', store, userId: (s) => s.userId, ...options }),
    silent,
  );

const now = Date.now();
function record(
  user: string,
  touchedAt: number,
  extra: Partial<StoredSession> = {},
): StoredSession {
  return {
    userId: user,
    cookie: {
      originalMaxAge: 3_600_000,
      expires: new Date(touchedAt + 3_600_000).toISOString(),
      createdAt: touchedAt - 1000,
      touchedAt,
      user,
    },
    ...extra,
  };
}

describe('UserSessions: handles', () => {
  it('names a session by 43 URL-safe characters, the same every time, never its id or signature', () => {
    const engine = engineWith(new FakeIndexStore());
    const handle = engine.users.handleOf('session-one');
    expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(engine.users.handleOf('session-one')).toBe(handle);
    expect(engine.users.handleOf('session-two')).not.toBe(handle);
    expect(handle).not.toContain('session-one');
    expect(engine.signer.sign('session-one')).not.toContain(handle);
  });

  it('accepts a handle rendered before the secrets rotated, and refuses forged ones', async () => {
    const store = new FakeIndexStore();
    store.records.set('sid-a', record('ada', now));
    const before = engineWith(store, { secret: 'old' }).users.handleOf('sid-a');
    const after = engineWith(store, { secret: ['new', 'old'] });
    expect(after.users.handleOf('sid-a')).not.toBe(before);
    expect(await after.users.destroyByHandle('ada', 'A'.repeat(43), 't')).toBeUndefined();
    expect(await after.users.destroyByHandle('ada', `${before}x`, 't')).toBeUndefined();
    expect(await after.users.destroyByHandle('ada', before, 't')).toBe('sid-a');
    expect(store.records.has('sid-a')).toBe(false);
  });

  it("refuses a handle of another user's session", async () => {
    const store = new FakeIndexStore();
    store.records.set('sid-b', record('bob', now));
    const engine = engineWith(store);
    const bobs = engine.users.handleOf('sid-b');
    expect(await engine.users.destroyByHandle('ada', bobs, 't')).toBeUndefined();
    expect(store.records.has('sid-b')).toBe(true);
  });
});

describe('UserSessions: listing', () => {
  it('lists live sessions newest activity first, with dates and a frozen copy of the data', async () => {
    const store = new FakeIndexStore();
    store.records.set(
      'older',
      record('ada', now - 60_000, { label: 'laptop', __fingerprint: 'h' }),
    );
    store.records.set('newer', record('ada', now - 1_000, { label: 'phone' }));
    const listed = await engineWith(store).users.find('ada', 't', 'older');
    expect(listed.map((s) => s.data.label)).toEqual(['phone', 'laptop']);
    expect(listed.map((s) => s.current)).toEqual([false, true]);
    expect(listed[1]!.lastActiveAt.getTime()).toBe(now - 60_000);
    expect(listed[1]!.createdAt.getTime()).toBe(now - 61_000);
    expect(listed[1]!.expiresAt!.getTime()).toBe(now - 60_000 + 3_600_000);
    expect(listed[1]!.data).toEqual({ userId: 'ada', label: 'laptop' });
    expect(Object.isFrozen(listed[1]!.data)).toBe(true);
    expect(JSON.stringify(listed)).not.toMatch(/older|newer/);
  });

  it("leaves out what the store should not have listed: another user's, expired, malformed", async () => {
    const store = new FakeIndexStore();
    store.records.set('mine', record('ada', now));
    store.records.set('moved', record('bob', now));
    store.records.set('expired', record('ada', now - 7_200_000));
    store.records.set('broken', { cookie: null } as never);
    const listed = await engineWith(store).users.find('ada', 't');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.handle).toBe(engineWith(store).users.handleOf('mine'));
  });

  it('ends the sessions over idleTimeout or absoluteTimeout instead of listing them', async () => {
    const store = new FakeIndexStore();
    store.records.set('active', record('ada', now));
    store.records.set('idle', record('ada', now - 120_000));
    const old = record('ada', now);
    old.cookie.createdAt = now - 9 * 3_600_000;
    store.records.set('old', old);
    const engine = engineWith(store, { idleTimeout: 60_000, absoluteTimeout: 8 * 3_600_000 });
    expect(await engine.users.find('ada', 't')).toHaveLength(1);
    expect([...store.records.keys()]).toEqual(['active']);
  });

  it('says which option is missing, and what a user id is', async () => {
    const store = new FakeIndexStore();
    const engine = new SessionEngine(resolveSessionOptions({ secret: 's', store }), silent);
    await expect(engine.users.find('ada', 'findByUser')).rejects.toThrow(
      'SessionService.findByUser() needs the per-user index: set the session option "userId"',
    );
    await expect(engineWith(store).users.find('', 'findByUser')).rejects.toThrow(
      'SessionService.findByUser() takes a user id (a string or a number)',
    );
  });
});
