import type { IncomingMessage } from 'node:http';
import { findChanges } from './changes';
import { SessionReservedKeyError } from './errors';
import { resolveSessionOptions, type SessionOptions } from './options';
import { clearData, exposeCookie, type SessionObject } from './session';
import { SessionEngine, type ConnectBehaviour, type VerifiedCookie } from './session-engine';
import type { SessionStore } from './session-store';
import type { StoredSession } from './stored-session';

// A store on a Map: unit tests of the core only (every real store passes the store contract).
class MapStore implements SessionStore {
  readonly records = new Map<string, StoredSession>();
  failWith: Error | undefined;
  async get(sid: string) {
    if (this.failWith) throw this.failWith;
    const record = this.records.get(sid);
    return record ? (JSON.parse(JSON.stringify(record)) as StoredSession) : null;
  }
  async set(sid: string, session: StoredSession) {
    if (this.failWith) throw this.failWith;
    this.records.set(sid, JSON.parse(JSON.stringify(session)) as StoredSession);
  }
  async destroy(sid: string) {
    if (this.failWith) throw this.failWith;
    this.records.delete(sid);
  }
}

type Request = IncomingMessage & { session?: unknown };
type Data = Record<string, unknown>;

function setup(behaviour: ConnectBehaviour, options: Partial<SessionOptions> = {}) {
  const store = new MapStore();
  const logged = { warn: [] as string[], error: [] as string[] };
  const logger = {
    warn: (message: string) => logged.warn.push(message),
    error: (message: string) => logged.error.push(message),
  };
  const engine = new SessionEngine(
    resolveSessionOptions({ secret: 's', store, ...options }),
    logger,
    undefined,
    behaviour,
  );
  const request = () => ({ headers: {} }) as Request;
  /** The request's session, on `req.session` as the glue puts it. */
  const fresh = (req = request(), secure = false) => {
    const owner = engine.fresh(req, secure);
    req.session = owner.session;
    return { req, owner, data: owner.session as SessionObject & Data };
  };
  const open = async (id: string, req = request()) => {
    const cookie: VerifiedCookie = { id, secretIndex: 0, value: engine.signer.sign(id) };
    const owner = await engine.open(req, false, cookie);
    req.session = owner.session;
    return { req, owner, data: owner.session as SessionObject & Data };
  };
  /** A stored session with `data`, written as a request would write it. */
  const stored = async (data: Data) => {
    const made = fresh();
    Object.assign(made.data, data);
    await made.owner.commit();
    return made.owner.id;
  };
  return { store, engine, logged, fresh, open, stored };
}

describe('exposeCookie: cookie among a session’s own keys (the express-session drop-in)', () => {
  it('shows in Object.keys and JSON, and is no data: no change, not cleared, not stored twice', async () => {
    const { store, fresh, open } = setup({ enumerableCookie: true });
    const { owner, data } = fresh();
    data.views = 1;
    expect(Object.keys(data)).toEqual(['cookie', 'views']);
    expect(JSON.parse(JSON.stringify(data))).toEqual({
      cookie: expect.objectContaining({ path: '/', httpOnly: true }),
      views: 1,
    });
    await owner.commit();
    const record = store.records.get(owner.id)!;
    expect(Object.keys(record).sort()).toEqual(['cookie', 'views']);
    expect(record.cookie).toEqual(expect.objectContaining({ path: '/', httpOnly: true }));

    const again = await open(owner.id);
    expect(Object.keys(again.data)).toEqual(['cookie', 'views']);
    expect(again.owner.commitDue()).toBe(false);
    await again.owner.regenerate();
    expect(Object.keys(again.data)).toEqual(['cookie']);
    expect(again.data.cookie).toBe(again.owner.cookie);
  });

  it('findChanges and clearData skip it', () => {
    const { fresh } = setup({ enumerableCookie: true });
    const { data } = fresh();
    const changes = findChanges(data, new Map());
    expect([...changes.set.keys()]).toEqual([]);
    data.a = 1;
    clearData(data);
    expect(Object.keys(data)).toEqual(['cookie']);
  });

  it('refuses another cookie, and takes its own back (a key-by-key copy onto itself)', () => {
    const { fresh } = setup({});
    const { data } = fresh();
    exposeCookie(data);
    data.a = 1;
    expect(() => Object.assign(data, { ...data })).not.toThrow();
    expect(() => Object.assign(data, { cookie: { maxAge: 1 } })).toThrow(
      new SessionReservedKeyError('cookie'),
    );
    expect(Object.keys(data)).toEqual(['cookie', 'a']);
  });

  it('is off without the behaviour: SessionModule’s sessions keep only their data as keys', () => {
    const { fresh } = setup({});
    const { data } = fresh();
    data.a = 1;
    expect(Object.keys(data)).toEqual(['a']);
  });
});

describe('unset: a session whose req.session the handler removed', () => {
  it.each([
    ['deleted', (req: Request) => delete req.session],
    ['set to null', (req: Request) => (req.session = null)],
  ])("'keep', %s: nothing written, no cookie, nothing due", async (_how, remove) => {
    const { store, open, stored } = setup({ unset: 'keep' });
    const id = await stored({ a: 1 });
    const { req, owner, data } = await open(id);
    data.a = 2;
    remove(req);
    expect(owner.commitDue()).toBe(false);
    expect(await owner.commit()).toBeUndefined();
    expect(owner.commitLate()).toBeUndefined();
    expect(store.records.get(id)?.a).toBe(1);
  });

  it("'destroy': the session is destroyed, and the cookie cleared", async () => {
    const { store, open, stored } = setup({ unset: 'destroy' });
    const id = await stored({ a: 1 });
    const { req, owner } = await open(id);
    delete req.session;
    expect(owner.commitDue()).toBe(true);
    expect(await owner.commit()).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970/);
    expect(store.records.has(id)).toBe(false);
  });

  it('without unset, removing req.session changes nothing (SessionModule)', async () => {
    const { store, open, stored } = setup({});
    const id = await stored({ a: 1 });
    const { req, owner, data } = await open(id);
    data.a = 2;
    delete req.session;
    await owner.commit();
    expect(store.records.get(id)?.a).toBe(2);
  });
});

describe('quietResave', () => {
  it.each([
    [true, false],
    [false, true],
  ])(
    'with quietResave %p, a resave of an unchanged session sends a cookie: %p',
    async (quietResave, sent) => {
      const { open, stored } = setup({ quietResave }, { resave: true });
      const id = await stored({ a: 1 });
      const { owner } = await open(id);
      const setCookie = await owner.commit();
      expect(setCookie !== undefined).toBe(sent);
      // A change to the data is still sent, as express-session sends it.
      const changed = await open(id);
      changed.data.a = 2;
      expect(await changed.owner.commit()).toMatch(/^connect\.sid=s%3A/);
    },
  );
});

describe('isHttps: a Secure cookie is not sent to a request that did not come over HTTPS', () => {
  it('saves the session, sends no cookie, and says so once', async () => {
    const { store, fresh, logged } = setup({ isHttps: () => false }, { cookie: { secure: true } });
    for (let i = 0; i < 2; i++) {
      const made = fresh(undefined, true);
      made.data.a = i;
      expect(await made.owner.commit()).toBeUndefined();
      expect(store.records.get(made.owner.id)?.a).toBe(i);
    }
    expect(logged.warn).toHaveLength(1);
    expect(logged.warn[0]).toContain('Secure attribute was not sent');
  });

  it('sends it over HTTPS', async () => {
    const { fresh, logged } = setup({ isHttps: () => true }, { cookie: { secure: true } });
    const made = fresh(undefined, true);
    made.data.a = 1;
    expect(await made.owner.commit()).toContain('; Secure');
    expect(logged.warn).toEqual([]);
  });
});

describe('reportUnawaited', () => {
  it('logs a method that failed with no callback given; its Promise still rejects', async () => {
    const { store, open, stored, logged } = setup({ reportUnawaited: true });
    const id = await stored({ a: 1 });
    const { data } = await open(id);
    store.failWith = new Error('the store is down');
    await expect(data.destroy()).rejects.toThrow('the store is down');
    expect(logged.error).toEqual([
      expect.stringContaining('Session destroy() failed (called without a callback)'),
    ]);
  });

  it('leaves a method with a callback to the callback', async () => {
    const { store, open, stored, logged } = setup({ reportUnawaited: true });
    const id = await stored({ a: 1 });
    const { data } = await open(id);
    store.failWith = new Error('the store is down');
    const err = await new Promise((resolve) => void data.save(resolve));
    expect(err).toBeInstanceOf(Error);
    expect(logged.error).toEqual([]);
  });
});
