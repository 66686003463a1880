import type { IncomingMessage } from 'node:http';
import { randomId } from './random-id';
import type { SessionData } from './session';
import type { SessionStore } from './session-store';
import {
  checkAttribute,
  checkCookieName,
  cookiePrefix,
  show,
  type CookiePriority,
  type Failure,
  type SameSiteOption,
  type SessionCookieOptions,
} from './cookie';
import { DEFAULT_STORE_TTL_MS } from './stored-session';

/**
 * The session options, as `SessionModule.forRoot()` takes them.
 * @publicApi
 */
export interface SessionOptions {
  /**
   * Signs the session-id cookie (HMAC-SHA256). With an array the first signs and every one
   * verifies, so a secret can be rotated without logging anyone out. Required.
   */
  secret: string | string[];
  /** Cookie name. @default 'connect.sid' */
  name?: string;
  /** connect's name for `name`; `name` wins when both are given. */
  key?: string;
  /** Where session data lives. @default new MemoryStore() (made by `SessionModule`) */
  store?: SessionStore;
  /** Cookie attributes, merged over the defaults. @default { path: '/', httpOnly: true, maxAge: 14_400_000, sameSite: 'lax', secure: 'auto' } */
  cookie?: SessionCookieOptions;
  /** Send the cookie, with a fresh expiry, on every response. @default false */
  rolling?: boolean;
  /** Write the session back (extending its expiry) on every request, even unchanged. @default false */
  resave?: boolean;
  /** Save, and send a cookie for, a new session that nothing was stored in. @default false */
  saveUninitialized?: boolean;
  /**
   * Binds a session to its client: a request whose fingerprint differs from the one the
   * session was created with gets a fresh, empty session (the old one is left alone). Only a
   * hash of the fingerprint is stored. @default none
   */
  fingerprint?: (req: IncomingMessage) => string;
  /** Paths with no session at all: full pathnames (query excluded) or RegExps. @default ['/favicon.ico'] */
  ignore?: (string | RegExp)[];
  /** Session-id generator. @default 32 random bytes from `crypto`, base64url */
  genid?: (req: IncomingMessage) => string;
  /** Trust `X-Forwarded-Proto` for `secure: 'auto'`. @default the app's `trust proxy` setting */
  proxy?: boolean;
  /**
   * How long (ms) after its last write or touch an unchanged session's store expiry is extended
   * again; in between, reading a session costs one store call. @default a tenth of `cookie.maxAge`
   */
  touchAfter?: number;
  /** A store call slower than this (ms) fails, with a 503. @default 5000 */
  storeTimeout?: number;
  /**
   * Run each request in a request context (`AsyncLocalStorage`), which is how `SessionService`
   * finds the current session without being handed it. By default it is on exactly when
   * something in the app injects `SessionService`; say `true` for an app that reaches it another
   * way (`app.get(SessionService)` during a request), `false` to turn it off.
   * @default on when `SessionService` is injected anywhere
   */
  requestContext?: boolean;
  /**
   * The signed-in user of a session (a passport user, a user id you stored), or `null` /
   * `undefined` when nobody is signed in. Turns on the store's per-user index, which
   * `SessionService.findByUser()`, `destroyByUser()` and `destroyByHandle()` read; the store
   * must support it. Called with the session each time it is written. @default none
   */
  userId?: UserIdOf;
  /**
   * A session not used for this long (ms) is over, on the server, whatever its cookie says: the
   * next request gets a fresh session and the old one is removed. @default none
   */
  idleTimeout?: number;
  /**
   * A session this old (ms since it was created or last regenerated) is over even if it is in
   * use all the time. @default none
   */
  absoluteTimeout?: number;
  /**
   * A request header that may carry the signed session id instead of the cookie (API and
   * mobile clients); it wins over the cookie, and the response carries it whenever it would
   * set the cookie (empty after `destroy()`). @default none
   */
  header?: string;
}

/**
 * The `userId` option: the session's data as plain properties (typed by `SessionData`, any
 * other key allowed, as `passport` stores its own), to the signed-in user.
 * @publicApi
 */
export type UserIdOf = (
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  session: SessionData & Record<string, any>,
) => string | number | null | undefined;

/** Cookie options with every default applied and `secure` still possibly `'auto'`. */
export interface ResolvedCookieOptions {
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  secure: boolean | 'auto';
  sameSite: SameSiteOption;
  maxAge: number | null;
  expires: Date | null;
  partitioned: boolean | undefined;
  priority: CookiePriority | undefined;
}

/** The options with every default applied and checked: what `SESSION_OPTIONS` holds. */
export interface ResolvedSessionOptions {
  readonly secrets: readonly string[];
  readonly name: string;
  readonly store: SessionStore;
  readonly cookie: Readonly<ResolvedCookieOptions>;
  readonly rolling: boolean;
  readonly resave: boolean;
  readonly saveUninitialized: boolean;
  readonly fingerprint: ((req: IncomingMessage) => string) | undefined;
  readonly ignore: readonly (string | RegExp)[];
  readonly genid: (req: IncomingMessage) => string;
  readonly proxy: boolean | undefined;
  readonly touchAfter: number;
  readonly storeTimeout: number;
  readonly userId:
    ((session: Record<string, unknown>) => string | number | null | undefined) | undefined;
  readonly idleTimeout: number | undefined;
  readonly absoluteTimeout: number | undefined;
  /** The header's name as given (the response's), or `undefined`. */
  readonly header: string | undefined;
  /** The same name in lower case, as Node keys `req.headers`. */
  readonly headerKey: string | undefined;
}

export const DEFAULT_COOKIE: Readonly<ResolvedCookieOptions> = Object.freeze({
  path: '/',
  domain: undefined,
  httpOnly: true,
  secure: 'auto',
  sameSite: 'lax',
  maxAge: 14_400_000,
  expires: null,
  partitioned: undefined,
  priority: undefined,
});

/** 32 bytes from `crypto`: 256 bits of entropy, 43 URL-safe characters (see `randomId`). */
export const defaultGenid = (): string => randomId();

/**
 * Applies the defaults to `options` and checks every one, throwing a `TypeError` that names
 * the option and says what it takes. Runs once, when the app starts.
 */
export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  if (!options || typeof options !== 'object')
    fail('options', 'must be an object with at least a "secret"');
  const secrets = resolveSecrets(options.secret);
  // `key` is only read when `name` is not given; the error names the one that was used.
  const nameOption = options.name === undefined && options.key !== undefined ? 'key' : 'name';
  const name = checkCookieName(options.name ?? options.key ?? 'connect.sid', failing(nameOption));
  const cookie = resolveCookieOptions(options.cookie, name);
  // The default store is the Nest face's to make: the core knows no store implementation.
  const store = options.store;
  if (store === undefined || store === null) fail('store', 'is required');
  const missing = (['get', 'set', 'destroy'] as const).filter(
    (m) => typeof store?.[m] !== 'function',
  );
  if (missing.length > 0) {
    fail(
      'store',
      `must implement get(), set() and destroy(); it lacks ${missing.map((m) => `${m}()`).join(', ')}`,
    );
  }
  for (const flag of [
    'rolling',
    'resave',
    'saveUninitialized',
    'proxy',
    'requestContext',
  ] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      fail(flag, `must be true or false, got ${show(options[flag])}`);
  }
  for (const fn of ['fingerprint', 'genid'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function')
      fail(fn, `must be a function of the request, got ${show(options[fn])}`);
  }
  const ignore = options.ignore ?? ['/favicon.ico'];
  if (
    !Array.isArray(ignore) ||
    !ignore.every((p) => typeof p === 'string' || p instanceof RegExp)
  ) {
    fail('ignore', 'must be an array of pathnames (strings) and RegExps');
  }
  const idleTimeout = timeout(options.idleTimeout, 'idleTimeout');
  const absoluteTimeout = timeout(options.absoluteTimeout, 'absoluteTimeout');
  // The throttle counts from the shorter of the two lives, so that an idle session is over after
  // at most idleTimeout: one in use is touched well before that.
  const life = Math.min(cookie.maxAge ?? DEFAULT_STORE_TTL_MS, idleTimeout ?? Infinity);
  const touchAfter = options.touchAfter ?? Math.floor(life / 10);
  if (!(typeof touchAfter === 'number' && touchAfter >= 0))
    fail('touchAfter', `must be a number of ms >= 0, got ${show(touchAfter)}`);
  if (idleTimeout !== undefined && touchAfter >= idleTimeout) {
    fail(
      'touchAfter',
      `must be shorter than idleTimeout (${idleTimeout} ms), or a session in use would end as idle, got ${touchAfter}`,
    );
  }
  const userId = options.userId;
  if (userId !== undefined) {
    if (typeof userId !== 'function')
      fail('userId', `must be a function of the session, got ${show(userId)}`);
    if (typeof store.findByUser !== 'function' || typeof store.destroyByUser !== 'function') {
      fail(
        'userId',
        `needs a store with a per-user index (findByUser() and destroyByUser()); ${storeName(store)} has none`,
      );
    }
  }
  const header = options.header;
  if (header !== undefined && !(typeof header === 'string' && HEADER_NAME.test(header)))
    fail(
      'header',
      `must be an HTTP header name (letters, digits, - and the like), got ${show(header)}`,
    );
  if (header !== undefined && RESERVED_HEADERS.has(header.toLowerCase()))
    fail('header', `cannot be ${show(header)}, which HTTP itself uses`);
  const storeTimeout = options.storeTimeout ?? 5000;
  if (!(typeof storeTimeout === 'number' && storeTimeout > 0))
    fail('storeTimeout', `must be a number of ms > 0, got ${show(storeTimeout)}`);
  return {
    secrets,
    name,
    store,
    cookie,
    rolling: options.rolling ?? false,
    resave: options.resave ?? false,
    saveUninitialized: options.saveUninitialized ?? false,
    fingerprint: options.fingerprint,
    ignore,
    genid: options.genid ?? defaultGenid,
    proxy: options.proxy,
    touchAfter,
    storeTimeout,
    userId,
    idleTimeout,
    absoluteTimeout,
    header,
    headerKey: header?.toLowerCase(),
  };
}

/**
 * The `cookie` option with the defaults applied and checked, for a cookie called `name`; throws
 * the same `TypeError`s as `resolveSessionOptions`. Also how the express-session drop-in checks
 * the cookie options its `cookie` function gives for a request.
 */
export function resolveCookieOptions(
  given: SessionCookieOptions | undefined,
  name: string,
): ResolvedCookieOptions {
  const cookie = resolveCookie(given);
  checkPrefix(name, cookie);
  return cookie;
}

/** A header name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers that already mean something to HTTP or to the session cookie. */
const RESERVED_HEADERS = new Set([
  'cookie',
  'set-cookie',
  'content-length',
  'host',
  'authorization',
]);

function timeout(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
    fail(option, `must be a number of ms > 0, got ${show(value)}`);
  return value;
}

function storeName(store: object): string {
  const name = (store.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'the store';
}

function resolveSecrets(secret: unknown): string[] {
  const list = Array.isArray(secret) ? secret : [secret];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    fail(
      'secret',
      'is required: a non-empty string, or a non-empty array of them (the first signs, every one verifies)',
    );
  }
  return list as string[];
}

function resolveCookie(given: SessionCookieOptions | undefined): ResolvedCookieOptions {
  if (given !== undefined && (given === null || typeof given !== 'object'))
    fail('cookie', 'must be an object of cookie attributes');
  const cookie: ResolvedCookieOptions = { ...DEFAULT_COOKIE, ...stripUndefined(given ?? {}) };
  // An invalid Date would be accepted here and then fail every write.
  if (
    given?.expires != null &&
    !(given.expires instanceof Date && Number.isFinite(given.expires.getTime()))
  ) {
    fail('cookie.expires', `must be a valid Date, or null, got ${show(given.expires)}`);
  }
  // `maxAge` wins when both are given; a fixed `expires` alone applies to every session as is.
  if (given?.maxAge !== undefined || !(given?.expires instanceof Date)) cookie.expires = null;
  else cookie.maxAge = null;
  if (
    cookie.maxAge !== null &&
    !(
      typeof cookie.maxAge === 'number' &&
      cookie.maxAge >= 0 &&
      // A maxAge past the last date a Date can hold would fail every write.
      Number.isFinite(new Date(Date.now() + cookie.maxAge).getTime())
    )
  ) {
    fail(
      'cookie.maxAge',
      `must be a number of ms >= 0, or null for a browser-session cookie, got ${show(cookie.maxAge)}`,
    );
  }
  checkAttribute.path(cookie.path, failing('cookie.path'));
  checkAttribute.domain(cookie.domain, failing('cookie.domain'));
  if (cookie.secure !== 'auto' && typeof cookie.secure !== 'boolean')
    fail('cookie.secure', `must be true, false or 'auto', got ${show(cookie.secure)}`);
  if (typeof cookie.httpOnly !== 'boolean')
    fail('cookie.httpOnly', `must be true or false, got ${show(cookie.httpOnly)}`);
  if (cookie.partitioned !== undefined && typeof cookie.partitioned !== 'boolean')
    fail('cookie.partitioned', `must be true or false, got ${show(cookie.partitioned)}`);
  // 'Lax' or 'LAX' (from an environment variable, say) is taken as 'lax', as browsers read it.
  cookie.sameSite = checkAttribute.sameSite(cookie.sameSite, failing('cookie.sameSite'))!;
  cookie.priority = checkAttribute.priority(cookie.priority, failing('cookie.priority'));
  return cookie;
}

/** The rules of the `__Host-` and `__Secure-` name prefixes: browsers drop a cookie that breaks them. */
function checkPrefix(name: string, cookie: ResolvedCookieOptions): void {
  const prefix = cookiePrefix(name);
  if (!prefix) return;
  const why = `for a cookie named ${show(name)} (browsers drop a ${prefix} cookie otherwise)`;
  if (cookie.secure === false) fail('cookie.secure', `must be true or 'auto' ${why}, got false`);
  if (prefix !== '__Host-') return;
  if (cookie.path !== '/') fail('cookie.path', `must be "/" ${why}, got ${show(cookie.path)}`);
  if (cookie.domain !== undefined)
    fail('cookie.domain', `must be left out ${why}, got ${show(cookie.domain)}`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function fail(option: string, problem: string): never {
  throw new TypeError(`Session option "${option}" ${problem}.`);
}

function failing(option: string): Failure {
  return (problem) => fail(option, problem);
}
