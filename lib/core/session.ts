import { SessionReservedKeyError } from './errors';
import { withCallback, type NodeCallback } from './callback';
import type { SessionCookie } from './cookie';

/**
 * The data a session holds, open to declaration merging so that `session.userId` is typed
 * across the app, as with express-session:
 *
 * ```ts
 * declare module '@tessera/session' {
 *   interface SessionData { userId?: string }
 * }
 * ```
 * @publicApi
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

/**
 * What a session asks of the request that owns it (see `RequestSession`): its id and cookie, and
 * what its methods do. The session object itself holds nothing but its data.
 */
export interface SessionOwner {
  /** The id, made on first read for a new session. */
  readonly id: string;
  readonly cookie: SessionCookie;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
  reload(): Promise<void>;
  save(): Promise<void>;
  touch(): void;
  /**
   * Hears a method's Promise that no callback was given for, which the caller may well ignore
   * (code written for express-session does: its methods return the session). Optional.
   */
  unawaited?(method: string, promise: Promise<void>): void;
}

/**
 * A session's data keys as a plain record: the one place the session object is seen as what it
 * also is, an object whose own enumerable properties are exactly its data (members live on the
 * prototype or in a private field, so they never show among them).
 */
export function dataOf(session: SessionObject): Record<string, unknown> {
  return session as unknown as Record<string, unknown>;
}

/** Removes every data key (regenerate, reload); an own `cookie` (see `exposeCookie`) stays. */
export function clearData(session: SessionObject): void {
  const data = dataOf(session);
  for (const key of Object.keys(data)) if (!RESERVED_KEYS.has(key)) delete data[key];
}

/**
 * Makes `cookie` one of the session's own enumerable keys, as it is on an express-session
 * session: `Object.keys(req.session)` and `JSON.stringify(req.session)` then show it, for code
 * written against express-session. It still reads the session's cookie, and refuses any other.
 * The session's data keys skip it, as they skip every reserved name.
 */
export function exposeCookie(session: SessionObject): void {
  Object.defineProperty(session, 'cookie', OWN_COOKIE);
}

/** The stored key that holds the fingerprint's hash; never one of the session's data keys. */
export const FINGERPRINT_KEY = '__fingerprint';

/**
 * Names a data key can never have: the session's own members, what every object inherits and
 * Tessera's internal keys. Assigning one throws (see the accessors below), and a stored record's
 * key of that name is never loaded as data.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'id',
  'cookie',
  'regenerate',
  'destroy',
  'reload',
  'save',
  'touch',
  'resetMaxAge',
  '__proto__',
  'constructor',
  FINGERPRINT_KEY,
]);

/**
 * A request's session: its data as plain properties, its `id` and `cookie`, and the methods
 * connect gave it. Each method returns a Promise and also takes a node-style callback, so code
 * written for express-session (passport, for one) works unchanged with `req.session`.
 */
export class SessionObject {
  // A private field: never one of the data's keys, never in JSON, invisible to Object.keys().
  readonly #owner: SessionOwner;

  constructor(owner: SessionOwner) {
    this.#owner = owner;
  }

  /** The session id. */
  get id(): string {
    return this.#owner.id;
  }

  /** This session's cookie: `maxAge` (ms remaining, assignable), `expires`, `originalMaxAge`, attributes. */
  get cookie(): SessionCookie {
    return this.#owner.cookie;
  }

  /** New id and empty data; the old record is destroyed in the store. This object carries the new id. */
  regenerate(callback?: NodeCallback): Promise<void> {
    return this.#settle('regenerate', this.#owner.regenerate(), callback);
  }

  /** Removes the session from the store; the response clears the cookie. */
  destroy(callback?: NodeCallback): Promise<void> {
    return this.#settle('destroy', this.#owner.destroy(), callback);
  }

  /** Reads the data from the store again, into this same object. */
  reload(callback?: NodeCallback): Promise<void> {
    return this.#settle('reload', this.#owner.reload(), callback);
  }

  /** Writes the session now (it is also written before the response when changed). */
  save(callback?: NodeCallback): Promise<void> {
    return this.#settle('save', this.#owner.save(), callback);
  }

  /** Resets `cookie.maxAge` to its original value; the store's expiry is extended at the end of the request. */
  touch(callback?: NodeCallback): Promise<void> {
    this.#owner.touch();
    return withCallback(Promise.resolve(), callback);
  }

  /** connect's name for `touch()`'s cookie reset. */
  resetMaxAge(): this {
    this.#owner.cookie.reset();
    return this;
  }

  /** With no callback, the owner hears of the Promise too (see `SessionOwner.unawaited`). */
  #settle(method: string, promise: Promise<void>, callback?: NodeCallback): Promise<void> {
    if (typeof callback !== 'function') this.#owner.unawaited?.(method, promise);
    return withCallback(promise, callback);
  }
}

/**
 * Every reserved name becomes an accessor on the prototype whose setter throws, so that
 * `session.save = …`, `Object.assign(session, body)` with a `cookie`, `__proto__` or
 * `__fingerprint` key, and the like fail loudly at the assignment instead of shadowing a method,
 * swapping the prototype (and with it `id`), or being stored and never read back. Reads are
 * unchanged: a method still reads as the method, `id` and `cookie` as their getters.
 */
function reserveNames(prototype: object): void {
  for (const name of RESERVED_KEYS) {
    const own = Object.getOwnPropertyDescriptor(prototype, name);
    Object.defineProperty(prototype, name, {
      get: own?.get ?? readerOf(name, own?.value),
      set() {
        throw new SessionReservedKeyError(name);
      },
      configurable: true,
      enumerable: false,
    });
  }
}

function readerOf(name: string, value: unknown): (this: object) => unknown {
  if (name === '__proto__')
    return function (this: object) {
      return Object.getPrototypeOf(this) as unknown;
    };
  return () => value;
}

reserveNames(SessionObject.prototype);

const cookieOf = Object.getOwnPropertyDescriptor(SessionObject.prototype, 'cookie')!.get!;

/**
 * The prototype's `cookie` accessor, enumerable. Assigning the session its own cookie is
 * allowed, and changes nothing: a key-by-key copy of the session onto itself (passport's
 * `keepSessionInfo` merge after `regenerate()`) must not throw. Any other cookie is refused.
 */
const OWN_COOKIE: PropertyDescriptor = {
  get: cookieOf,
  set(this: SessionObject, value: unknown) {
    if (value !== cookieOf.call(this)) throw new SessionReservedKeyError('cookie');
  },
  configurable: true,
  enumerable: true,
};
