import { SessionReservedKeyError } from '../exceptions/session-reserved-key.error';
import { withCallback, type NodeCallback } from './callback';
import type { SessionCookie } from './cookie';
import type { StoredSession } from './stored-session';

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

/** What a session's methods ask of the request that owns it (see `SessionEngine`). */
export interface SessionOwner {
  regenerate(session: SessionObject): Promise<void>;
  destroy(session: SessionObject): Promise<void>;
  reload(session: SessionObject): Promise<void>;
  save(session: SessionObject): Promise<void>;
  touch(session: SessionObject): void;
}

/** A session's bookkeeping, kept off the data's own keys. */
export interface SessionState {
  owner: SessionOwner;
  /** The id, made on first use for a new session. */
  id: string | undefined;
  makeId: () => string;
  cookie: SessionCookie;
  /** `true` until the session has been written to the store. */
  isNew: boolean;
  destroyed: boolean;
  /** The record as the store returned it (what `SessionChange.base` carries). */
  base: StoredSession | null;
  /** The JSON text of every data key as last loaded or written: how changes are found. */
  snapshot: Map<string, string>;
  /** Hash of the fingerprint the session is bound to, when the option is on. */
  fingerprint: string | undefined;
  /** `touch()` was called: extend the store's expiry at the end, whatever `touchAfter` says. */
  touchRequested: boolean;
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
  readonly #state: SessionState;

  constructor(state: SessionState) {
    this.#state = state;
  }

  /** The session id. */
  get id(): string {
    const state = this.#state;
    return (state.id ??= state.makeId());
  }

  /** This session's cookie: `maxAge` (ms remaining, assignable), `expires`, `originalMaxAge`, attributes. */
  get cookie(): SessionCookie {
    return this.#state.cookie;
  }

  /** New id and empty data; the old record is destroyed in the store. This object carries the new id. */
  regenerate(callback?: NodeCallback): Promise<void> {
    return withCallback(this.#state.owner.regenerate(this), callback);
  }

  /** Removes the session from the store; the response clears the cookie. */
  destroy(callback?: NodeCallback): Promise<void> {
    return withCallback(this.#state.owner.destroy(this), callback);
  }

  /** Reads the data from the store again, into this same object. */
  reload(callback?: NodeCallback): Promise<void> {
    return withCallback(this.#state.owner.reload(this), callback);
  }

  /** Writes the session now (it is also written before the response when changed). */
  save(callback?: NodeCallback): Promise<void> {
    return withCallback(this.#state.owner.save(this), callback);
  }

  /** Resets `cookie.maxAge` to its original value; the store's expiry is extended at the end of the request. */
  touch(callback?: NodeCallback): Promise<void> {
    this.#state.owner.touch(this);
    return withCallback(Promise.resolve(), callback);
  }

  /** connect's name for `touch()`'s cookie reset. */
  resetMaxAge(): this {
    this.#state.cookie.reset();
    return this;
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
