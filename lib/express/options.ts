import type { IncomingMessage } from 'node:http';
import {
  resolveCookieOptions,
  type ResolvedCookieOptions,
  type SessionOptions as TesseraOptions,
  type UserIdOf,
} from '../core/options';
import type { SessionStore } from '../core/session-store';
import { MemoryStore } from '../stores/memory.store';
import type { CookieOptions } from './cookie';
import { deprecated } from './deprecation';

/**
 * A store as express-session takes one (connect-redis, connect-pg-simple, express-session's own
 * MemoryStore, a class extending `Store`): `get`, `set` and `destroy` with node-style callbacks.
 */
export interface ConnectStore {
  /* eslint-disable @typescript-eslint/no-explicit-any -- as express-session's stores type them */
  get(sid: string, callback: (err: any, session?: any) => void): unknown;
  set(sid: string, session: any, callback?: (err?: any) => void): unknown;
  destroy(sid: string, callback?: (err?: any) => void): unknown;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

// A method's parameters are bivariant: a function typed for Express's Request (a subtype of
// IncomingMessage) is accepted, as it is by express-session's own typings.
type OfRequest<T> = { of(req: IncomingMessage): T }['of'];

/**
 * The options of `session()` from `@tessera/session/express`: express-session's names and
 * defaults, plus Tessera's own (which `SessionModule` takes too).
 * @publicApi
 */
export interface SessionOptions {
  /**
   * Signs the session-id cookie; with an array the first signs and every one verifies.
   * Required: a missing one fails here, at start-up (express-session fails each request).
   */
  secret: string | string[];
  /** Cookie name. @default 'connect.sid' */
  name?: string;
  /** Where sessions live: a Tessera store or any express-session store. @default new MemoryStore() */
  store?: SessionStore | ConnectStore;
  /**
   * The cookie's attributes, or a function of the request that gives them. Of `maxAge` and
   * `expires`, the one given last counts.
   * @default { path: '/', httpOnly: true, secure: false, maxAge: null }
   */
  cookie?: CookieOptions | OfRequest<CookieOptions>;
  /** Session-id generator. @default 32 random bytes, base64url */
  genid?: OfRequest<string>;
  /** Trust `X-Forwarded-Proto`; `undefined` follows Express's `trust proxy`. @default undefined */
  proxy?: boolean;
  /**
   * Write the session back on every request, changed or not. `true` unless given, with
   * express-session's deprecation warning; `false` suits nearly every app. @default true
   */
  resave?: boolean;
  /** Send the cookie, with a fresh expiry, on every response. @default false */
  rolling?: boolean;
  /**
   * Save (and send a cookie for) a new session nothing was stored in. `true` unless given,
   * with express-session's deprecation warning. @default true
   */
  saveUninitialized?: boolean;
  /**
   * What removing `req.session` (`delete`, or `= null`) does: `'keep'` leaves the stored session
   * as it was and drops this request's changes; `'destroy'` destroys it. @default 'keep'
   */
  unset?: 'destroy' | 'keep';
  /** Tessera's: see `SessionModuleOptions.touchAfter`. @default a tenth of the session's life */
  touchAfter?: number;
  /** Tessera's: a store call slower than this (ms) fails, with a 503. @default 5000 */
  storeTimeout?: number;
  /** Tessera's: the signed-in user of a session, for the store's per-user index. */
  userId?: UserIdOf;
  /** Tessera's: server-side idle timeout (ms). */
  idleTimeout?: number;
  /** Tessera's: server-side absolute timeout (ms). */
  absoluteTimeout?: number;
  /** Tessera's: a header that may carry the session id beside the cookie. */
  header?: string;
  /** Tessera's: binds a session to its client. */
  fingerprint?: OfRequest<string>;
}

/** How the drop-in's options come out in Tessera's terms. */
export interface DropInSettings {
  /** For `resolveSessionOptions`. */
  readonly options: TesseraOptions;
  readonly unset: 'keep' | 'destroy';
  /** The request's own cookie options, when the `cookie` option is a function. */
  readonly cookieFor: ((req: IncomingMessage) => Readonly<ResolvedCookieOptions>) | undefined;
}

/** express-session's cookie, less `maxAge` (see `cookieOptions`). */
const EXPRESS_COOKIE = { path: '/', httpOnly: true, secure: false, sameSite: false } as const;

let warnedMemoryStoreInProduction = false;

/** Maps express-session's options onto Tessera's, with express-session's defaults. */
export function dropInSettings(given: SessionOptions): DropInSettings {
  // Checked here for the messages below; resolveSessionOptions checks it too.
  if (!given || typeof given !== 'object')
    fail('options', 'must be an object with at least a "secret"');
  const { cookie, resave, saveUninitialized, unset = 'keep', store, ...rest } = given;
  if (unset !== 'keep' && unset !== 'destroy')
    fail('unset', `must be "destroy" or "keep", got ${JSON.stringify(unset) ?? String(unset)}`);
  const name = rest.name ?? (given as { key?: string }).key ?? 'connect.sid';
  const options: TesseraOptions = {
    ...rest,
    store: checkedStore(store ?? new MemoryStore()),
    resave: resave ?? defaulted('TESSERA_SESSION_RESAVE', 'resave'),
    saveUninitialized:
      saveUninitialized ?? defaulted('TESSERA_SESSION_SAVE_UNINITIALIZED', 'saveUninitialized'),
    // express-session has no ignore list: every path within the cookie's has a session.
    ignore: [],
    cookie:
      typeof cookie === 'function'
        ? // Only checked at start-up; each request's own are what count. 'auto' keeps a
          // __Secure- or __Host- name from failing on express-session's `secure: false`.
          { ...cookieOptions(undefined), secure: 'auto' }
        : cookieOptions(cookie),
  } as TesseraOptions;
  return {
    options,
    unset,
    cookieFor: typeof cookie === 'function' ? perRequest(cookie, name) : undefined,
  };
}

/**
 * express-session's cookie defaults under the given attributes. Of `maxAge` and `expires`, the
 * one given last counts, as in express-session; with neither, the cookie lasts as long as the
 * browser session (`maxAge: null`).
 */
export function cookieOptions(given: CookieOptions | undefined): CookieOptions {
  // Anything but an object is passed on as it is, for resolveSessionOptions to refuse.
  if (given === undefined || given === null) return { ...EXPRESS_COOKIE, maxAge: null };
  if (typeof given !== 'object') return given;
  const cookie: CookieOptions = { ...EXPRESS_COOKIE, ...given };
  const last = Object.keys(given)
    .filter((key) => (key === 'maxAge' || key === 'expires') && given[key] !== undefined)
    .pop();
  if (last === 'expires' && given.expires) {
    delete cookie.maxAge;
  } else {
    // `expires: null` or `false` given last is a browser-session cookie too.
    delete cookie.expires;
    if (last !== 'maxAge') cookie.maxAge = null;
  }
  return cookie;
}

/** The `cookie` function's options for a request, resolved once per request and checked. */
function perRequest(
  cookie: OfRequest<CookieOptions>,
  name: string,
): (req: IncomingMessage) => Readonly<ResolvedCookieOptions> {
  const resolved = new WeakMap<IncomingMessage, Readonly<ResolvedCookieOptions>>();
  return (req) => {
    let options = resolved.get(req);
    if (options === undefined) {
      options = resolveCookieOptions(cookieOptions(cookie(req)), name);
      resolved.set(req, options);
    }
    return options;
  };
}

/** express-session's default for an option not given, with its deprecation warning. */
function defaulted(code: string, option: 'resave' | 'saveUninitialized'): true {
  deprecated(code, `undefined ${option} option; provide ${option} option`);
  return true;
}

/** The store, with a warning (once) for a MemoryStore in production, as express-session gives. */
function checkedStore<T>(store: T): T {
  if (
    store instanceof MemoryStore &&
    process.env.NODE_ENV === 'production' &&
    !warnedMemoryStoreInProduction
  ) {
    warnedMemoryStoreInProduction = true;
    console.warn(
      '[@tessera/session] MemoryStore keeps sessions in this process only: they are lost on ' +
        'restart and not shared between instances. Use RedisStore, TypeOrmStore or another ' +
        'store in production.',
    );
  }
  return store;
}

function fail(option: string, problem: string): never {
  throw new TypeError(`Session option "${option}" ${problem}.`);
}
