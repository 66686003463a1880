import express from 'express';
import expressSession from 'express-session';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import session from '../../lib/express';
import type { NodeCallback } from '../../lib/core/callback';
import type { SessionChange, StoredSession } from '../../lib/core/stored-session';
import { MemoryStore } from '../../lib/stores/memory.store';

export const SECRET = 'test secret: keyboard cat';

/**
 * The two libraries the drop-in is held against: express-session itself, and
 * `@tessera/session/express`. A test run with both asserts what they share; one whose
 * expectation differs by library pins a difference.
 */
export interface Library {
  readonly name: 'express-session' | 'tessera';
  // Each library's own options type; the tests give both the same plain objects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly session: (options: any) => express.RequestHandler;
  readonly Store: typeof session.Store | typeof expressSession.Store;
  readonly Cookie: typeof session.Cookie | typeof expressSession.Cookie;
  readonly Session: typeof session.Session | typeof expressSession.Session;
}

export const EXPRESS_SESSION: Library = {
  name: 'express-session',
  session: expressSession,
  Store: expressSession.Store,
  Cookie: expressSession.Cookie,
  Session: expressSession.Session,
};

export const TESSERA: Library = {
  name: 'tessera',
  session: session as unknown as Library['session'],
  Store: session.Store,
  Cookie: session.Cookie,
  Session: session.Session,
};

export const LIBRARIES: readonly Library[] = [EXPRESS_SESSION, TESSERA];

/** `describe.each` rows: the library's name, and the library. */
export const BOTH = LIBRARIES.map((library) => [library.name, library] as const);

/** A running Express 5 app on a loopback port. */
export interface RunningApp {
  readonly url: string;
  /** A client that keeps no cookies. */
  http(): ReturnType<typeof request>;
  /** A client that keeps cookies, as a browser does. */
  browser(): ReturnType<typeof request.agent>;
  close(): Promise<void>;
}

/** Starts `app` on 127.0.0.1 on a free port. */
export async function listen(app: express.Express): Promise<RunningApp> {
  const server = await new Promise<Server>((resolve) => {
    const started: Server = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    http: () => request(url),
    browser: () => request.agent(url),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * For a describe block whose tests each start their own apps: `start` builds an Express 5 app
 * with `middleware` first, then `routes`, and every app it started is closed after each test.
 */
export function appsPerTest() {
  const running: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
  });
  return async (
    middleware: express.RequestHandler | express.RequestHandler[],
    routes: (app: express.Express) => void = sessionRoutes,
    configure?: (app: express.Express) => void,
  ): Promise<RunningApp> => {
    const app = express();
    configure?.(app);
    app.use(express.json());
    app.use(middleware);
    routes(app);
    const started = await listen(app);
    running.push(started);
    return started;
  };
}

type Data = Record<string, unknown>;
const dataOf = (req: express.Request) => req.session as unknown as Data | undefined | null;

/**
 * The routes most tests use: `/set` (the body's keys into the session), `/read` (its data, id,
 * cookie and keys), `/touch-nothing` (a response that never looks at the session), `/views`.
 */
export function sessionRoutes(app: express.Express): void {
  app.post('/set', (req, res) => {
    Object.assign(req.session, req.body);
    res.json({ id: req.sessionID });
  });
  app.get('/read', (req, res) => {
    const session = dataOf(req);
    res.json({
      id: req.sessionID ?? null,
      has: session !== undefined && session !== null,
      data: session ? withoutCookie(session) : null,
      keys: session ? Object.keys(session) : null,
      json: session ? (JSON.parse(JSON.stringify(session)) as Data) : null,
      store: (req as { sessionStore?: unknown }).sessionStore !== undefined,
    });
  });
  app.get('/touch-nothing', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/views', (req, res) => {
    const session = dataOf(req)!;
    session.views = ((session.views as number | undefined) ?? 0) + 1;
    res.json({ views: session.views });
  });
}

export function withoutCookie(session: Data): Data {
  return Object.fromEntries(Object.entries(session).filter(([key]) => key !== 'cookie'));
}

/** The `Set-Cookie` lines of a response, by cookie name. */
export function setCookies(res: { headers: Record<string, unknown> }): Record<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)];
  return Object.fromEntries(list.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** The `name=value` of the session cookie a response set, for a `Cookie` header. */
export function cookieOf(res: { headers: Record<string, unknown> }, name = 'connect.sid'): string {
  const line = setCookies(res)[name];
  if (!line) throw new Error(`the response set no ${name} cookie`);
  return line.slice(0, line.indexOf(';'));
}

/** A `Set-Cookie` line's attributes, sorted, without the value and `Expires` (times differ). */
export function attributesOf(line: string): string[] {
  return line
    .split('; ')
    .slice(1)
    .filter((part) => !part.startsWith('Expires='))
    .sort();
}

type Operation = 'get' | 'set' | 'patch' | 'touch' | 'destroy';

/**
 * Tessera's MemoryStore, counting the calls each library makes to it: a real store (the
 * counted methods call its own), which both libraries can be given. Its overrides take a
 * callback, as an express-session store's do, and are called back by both.
 */
export class CountingStore extends MemoryStore {
  calls: Operation[] = [];

  constructor() {
    super({ sweepInterval: 0 });
  }

  count(op: Operation): number {
    return this.calls.filter((call) => call === op).length;
  }

  /** Writes of the session's data: `set` (express-session, new sessions) and `patch` (Tessera). */
  writes(): number {
    return this.count('set') + this.count('patch');
  }

  override get(sid: string, callback?: NodeCallback<StoredSession | null>) {
    this.calls.push('get');
    return super.get(sid, callback);
  }

  override set(sid: string, session: StoredSession, callback?: NodeCallback) {
    this.calls.push('set');
    return super.set(sid, session, callback);
  }

  override patch(sid: string, change: SessionChange, callback?: NodeCallback<boolean>) {
    this.calls.push('patch');
    return super.patch(sid, change, callback);
  }

  override touch(sid: string, session: StoredSession, callback?: NodeCallback<boolean>) {
    this.calls.push('touch');
    return super.touch(sid, session, callback);
  }

  override destroy(sid: string, callback?: NodeCallback) {
    this.calls.push('destroy');
    return super.destroy(sid, callback);
  }
}

/** The options every test gives unless it is about them: no deprecation warnings. */
export const QUIET = { secret: SECRET, resave: false, saveUninitialized: false } as const;

/** The session id in a `connect.sid=s%3A<id>.<mac>` cookie. */
export function idOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return value.slice(2, value.lastIndexOf('.'));
}

/** A node-style callback, as connect stores take them. */
export type StoreCallback<T = unknown> = (err?: unknown, value?: T) => void;

/**
 * A store written the connect way, as a subclass of `Base` (either library's `Store`): callbacks
 * only, answered on a later turn, records kept as JSON text in a Map.
 */
export function mapStoreOn(Base: abstract new () => object) {
  // The library's Store, taken as a plain base class: only its own helpers are inherited.
  const Parent = Base as new () => object;
  return class MapStore extends Parent {
    readonly records = new Map<string, string>();
    get(sid: string, callback: StoreCallback<StoredSession | null>) {
      const json = this.records.get(sid);
      setImmediate(() => callback(null, json === undefined ? null : JSON.parse(json)));
    }
    set(sid: string, record: unknown, callback?: StoreCallback) {
      this.records.set(sid, JSON.stringify(record));
      setImmediate(() => callback?.());
    }
    destroy(sid: string, callback?: StoreCallback) {
      this.records.delete(sid);
      setImmediate(() => callback?.());
    }
  };
}
