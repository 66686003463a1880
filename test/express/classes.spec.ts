import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import session from '../../lib/express';
import type { StoredSession } from '../../lib/core/stored-session';
import { MemoryStore } from '../../lib/stores/memory.store';
import { EXPRESS_SESSION, mapStoreOn, TESSERA, type Library } from './support';

type Data = Record<string, unknown>;
type Callback<T = unknown> = (err?: unknown, value?: T) => void;
/** A Cookie of either library, as both have it (express-session's typings leave some out). */
interface AnyCookie {
  maxAge: number | null | false | undefined;
  originalMaxAge: number | null | false | undefined;
  expires: Date | null | false | undefined;
  serialize(name: string, value: string): string;
  toJSON(): object;
}
type CookieClass = new (options?: unknown) => AnyCookie;
const cookieClass = (library: Library) => library.Cookie as unknown as CookieClass;
/** A Session of either library, made with a request and data. */
const sessionClass = (library: Library) =>
  library.Session as unknown as new (req: unknown, data?: unknown) => Data;

/** What a library's `new Cookie(input)` gives: the error it throws, or the cookie (times in ms from now). */
function cookieOutcome(library: Library, input: unknown): unknown {
  let cookie: AnyCookie;
  try {
    cookie = new (cookieClass(library))(input);
  } catch (err) {
    return { error: [(err as Error).constructor.name, (err as Error).message] };
  }
  const json = cookie.toJSON() as unknown as Data;
  return {
    keys: Object.keys(cookie).sort(),
    maxAge: cookie.maxAge,
    originalMaxAge: cookie.originalMaxAge,
    json: {
      ...json,
      expires: json.expires instanceof Date ? json.expires.getTime() - Date.now() : json.expires,
    },
  };
}

/**
 * `actual` with each number that is within a second of `expected`'s number in the same place
 * replaced by it: the two cookies were made a moment apart, and their times run on.
 */
function alignTimes(actual: unknown, expected: unknown): unknown {
  if (typeof actual === 'number' && typeof expected === 'number')
    return Math.abs(actual - expected) < 1_000 ? expected : actual;
  if (Array.isArray(actual) || typeof actual !== 'object' || actual === null) return actual;
  if (typeof expected !== 'object' || expected === null) return actual;
  const target = expected as Data;
  return Object.fromEntries(
    Object.entries(actual as Data).map(([key, value]) => [key, alignTimes(value, target[key])]),
  );
}

const inAnHour = new Date(Date.now() + 3_600_000);

describe('Cookie, as express-session makes it', () => {
  it.each<[string, unknown]>([
    ['no options', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a string', 'maxAge=1000'],
    ['a number', 42],
    ['true', true],
    ['false (no options)', false],
    ['maxAge as a string', { maxAge: 'one day' }],
    ['maxAge as an object', { maxAge: {} }],
    ['maxAge: 0', { maxAge: 0 }],
    ['maxAge: null', { maxAge: null }],
    ['maxAge in ms', { maxAge: 60_000 }],
    ['expires', { expires: inAnHour }],
    ['maxAge, then expires', { maxAge: 60_000, expires: inAnHour }],
    ['expires, then maxAge', { expires: inAnHour, maxAge: 60_000 }],
    ['originalMaxAge given after maxAge', { maxAge: 60_000, originalMaxAge: 5_000 }],
    ['originalMaxAge given before maxAge', { originalMaxAge: 5_000, maxAge: 60_000 }],
    [
      'every attribute',
      {
        path: '/app',
        domain: 'example.test',
        secure: true,
        httpOnly: false,
        sameSite: 'strict',
        partitioned: true,
        priority: 'high',
        maxAge: 60_000,
      },
    ],
    ['a data key, which is skipped', { data: { path: '/elsewhere' }, path: '/app' }],
  ])('%s: the same cookie, or the same error, as express-session', (_what, input) => {
    const expected = cookieOutcome(EXPRESS_SESSION, input);
    expect(alignTimes(cookieOutcome(TESSERA, input), expected)).toEqual(expected);
  });

  it('the refusals are the TypeErrors express-session throws', () => {
    expect(cookieOutcome(TESSERA, 'x')).toEqual({
      error: ['TypeError', 'argument options must be a object'],
    });
    expect(cookieOutcome(TESSERA, { maxAge: 'x' })).toEqual({
      error: ['TypeError', 'maxAge must be a number or Date'],
    });
  });

  it('serialize() writes the same Set-Cookie attributes', () => {
    const options = {
      path: '/app',
      domain: 'example.test',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      partitioned: true,
      priority: 'low',
      expires: inAnHour,
    };
    const parts = (library: Library) =>
      new (cookieClass(library))(options).serialize('sid', 's:value.mac').split('; ').sort();
    expect(parts(TESSERA)).toEqual(parts(EXPRESS_SESSION));
    expect(parts(TESSERA)).toContain(`Expires=${inAnHour.toUTCString()}`);
    expect(parts(TESSERA)).toContain('sid=s%3Avalue.mac');
  });

  it.each([
    ['a path with ";"', { path: '/a;b' }],
    ['an unknown sameSite', { sameSite: 'sideways' }],
    ['an unknown priority', { priority: 'urgent' }],
    ['a domain with a space', { domain: 'example .test' }],
  ])('serialize() refuses %s with a TypeError, as express-session does', (_what, options) => {
    for (const library of [TESSERA, EXPRESS_SESSION]) {
      const cookie = new (cookieClass(library))(options);
      expect(() => cookie.serialize('sid', 'value')).toThrow(TypeError);
    }
  });
});

/** A callback-only store on a Map, extending the library's `Store`: what apps write. */
function callbackStore(library: Library) {
  const MapStore = mapStoreOn(library.Store as unknown as new () => EventEmitter & Data);
  return new MapStore();
}

interface Request extends Data {
  sessionID: string;
  sessionStore: ReturnType<typeof callbackStore>;
  session?: Data & { id: string; cookie: Data };
}

const record = (): StoredSession => ({
  user: 'ada',
  cookie: {
    originalMaxAge: 3_600_000,
    expires: inAnHour.toISOString(),
    httpOnly: true,
    path: '/',
  },
});

const call = <T>(fn: (callback: Callback<T>) => unknown) =>
  new Promise<T>((resolve, reject) =>
    fn((err, value) => (err ? reject(err as Error) : resolve(value as T))),
  );

describe.each([
  ['express-session', EXPRESS_SESSION],
  ['tessera', TESSERA],
] as const)('%s: Store and Session', (_name, library) => {
  let store: ReturnType<typeof callbackStore>;
  let req: Request;
  beforeEach(() => {
    store = callbackStore(library);
    req = { sessionID: 'sid', sessionStore: store };
  });
  const helpers = () =>
    store as unknown as {
      createSession(req: Request, record: StoredSession): Data;
      load(sid: string, callback: Callback<Data | undefined>): void;
      regenerate(req: Request, callback: Callback): void;
      generate?: (req: Request) => void;
    };

  it('a store is an EventEmitter', () => {
    expect(store).toBeInstanceOf(EventEmitter);
    expect(store).toBeInstanceOf(library.Store);
  });

  it('createSession(req, record) puts a Session on the request, its cookie a Cookie', () => {
    const created = helpers().createSession(req, record());
    expect(req.session).toBe(created);
    expect(created).toBeInstanceOf(library.Session);
    expect(created.cookie).toBeInstanceOf(library.Cookie);
    const cookie = created.cookie as AnyCookie;
    expect(cookie.expires).toEqual(inAnHour);
    expect(cookie.originalMaxAge).toBe(3_600_000);
    expect(created.id).toBe('sid');
    expect(Object.keys(created)).toEqual(['user', 'cookie']);
  });

  it('load(sid, callback) gives a Session of the stored record, or nothing', async () => {
    store.records.set('stored', JSON.stringify(record()));
    const loaded = (await call<Data | undefined>((cb) => helpers().load('stored', cb)))!;
    expect(loaded).toBeInstanceOf(library.Session);
    expect(loaded.id).toBe('stored');
    expect(loaded.user).toBe('ada');
    expect(await call((cb) => helpers().load('missing', cb))).toBeUndefined();
  });

  it("regenerate(req, callback) destroys the request's session, then generates", async () => {
    store.records.set('sid', JSON.stringify(record()));
    helpers().generate = (request) => {
      request.sessionID = 'fresh';
      request.session = new (sessionClass(library))(request) as never;
    };
    await call((cb) => helpers().regenerate(req, cb));
    expect(store.records.has('sid')).toBe(false);
    expect(req.sessionID).toBe('fresh');
    expect(req.session).toBeInstanceOf(library.Session);
  });

  describe('Session', () => {
    const make = (data: Data = {}) => {
      const created = new (sessionClass(library))(req, data) as Data & {
        save(cb?: Callback): unknown;
        touch(): unknown;
        resetMaxAge(): unknown;
        reload(cb: Callback): unknown;
        destroy(cb: Callback): unknown;
        regenerate(cb: Callback): unknown;
      };
      req.session = created as never;
      return created;
    };

    it('takes the data but never its own members; id and req are read-only and hidden', () => {
      const created = make({ a: 1, save: 'shadow', id: 'chosen', req: 'chosen', touch: 1 });
      expect(Object.keys(created)).toEqual(['a']);
      expect(created.id).toBe('sid');
      expect(typeof created.save).toBe('function');
      expect(Object.getOwnPropertyDescriptor(created, 'id')).toMatchObject({
        writable: false,
        enumerable: false,
      });
      expect(Object.getOwnPropertyDescriptor(created, 'req')).toMatchObject({
        value: req,
        enumerable: false,
      });
      expect(() => {
        created.id = 'other';
      }).toThrow(TypeError);
    });

    it('save(callback) writes the whole session, cookie included, and returns the session', async () => {
      const created = make({ a: 1, cookie: new (cookieClass(library))({ maxAge: 60_000 }) });
      let returned: unknown;
      await call((cb) => (returned = created.save(cb)));
      expect(returned).toBe(created);
      const stored = JSON.parse(store.records.get('sid')!) as StoredSession;
      expect(stored.a).toBe(1);
      expect(stored.cookie.originalMaxAge).toBe(60_000);
    });

    it('touch() and resetMaxAge() reset cookie.maxAge to originalMaxAge, for chaining', () => {
      const cookie = new (cookieClass(library))({ maxAge: 60_000 });
      cookie.expires = new Date(Date.now() + 1_000);
      cookie.originalMaxAge = 60_000;
      const created = make({ cookie });
      expect(created.touch()).toBe(created);
      expect(cookie.maxAge).toBeGreaterThan(50_000);
      cookie.expires = new Date(Date.now() + 1_000);
      cookie.originalMaxAge = 60_000;
      expect(created.resetMaxAge()).toBe(created);
      expect(cookie.maxAge).toBeGreaterThan(50_000);
    });

    it('reload(callback) puts a new Session of the stored record on the request', async () => {
      store.records.set('sid', JSON.stringify(record()));
      const created = make({ user: 'someone else' });
      await call((cb) => created.reload(cb));
      expect(req.session).not.toBe(created);
      expect(req.session).toBeInstanceOf(library.Session);
      expect(req.session!.user).toBe('ada');
      store.records.clear();
      await expect(
        call((cb) => (req.session as unknown as typeof created).reload(cb)),
      ).rejects.toThrow('failed to load session');
    });

    it('destroy(callback) removes req.session and the record', async () => {
      store.records.set('sid', JSON.stringify(record()));
      const created = make({ a: 1 });
      await call((cb) => created.destroy(cb));
      expect(req.session).toBeUndefined();
      expect(store.records.has('sid')).toBe(false);
    });

    it("regenerate(callback) is the store's regenerate of the request", async () => {
      helpers().generate = (request) => {
        request.sessionID = 'fresh';
        request.session = new (sessionClass(library))(request) as never;
      };
      const created = make({ a: 1 });
      await call((cb) => created.regenerate(cb));
      expect(req.sessionID).toBe('fresh');
      expect(req.session).not.toBe(created);
    });
  });
});

describe("tessera's Store, natively", () => {
  it('needs no express-session: its helpers are its own, and every built-in store has them', () => {
    for (const file of ['../../lib/express/store', '../../lib/stores/connect-store.base']) {
      const source = readFileSync(require.resolve(file), 'utf8');
      expect(source).not.toMatch(/require\(['"]express-session['"]\)|from ['"]express-session['"]/);
    }
    const store = new MemoryStore({ sweepInterval: 0 });
    expect(store).toBeInstanceOf(session.Store);
    store.close();
  });

  it("regenerate(req) without express-session's generate is the request's own session's", async () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    let regenerated = false;
    const req = {
      sessionID: 'sid',
      sessionStore: store,
      session: {
        regenerate(callback: Callback) {
          regenerated = true;
          callback();
        },
      },
    };
    await call((cb) => store.regenerate(req as never, cb));
    expect(regenerated).toBe(true);
    store.close();
  });
});
