import type { NodeCallback } from '../core/callback';
import type { Cookie } from './cookie';
import type { Store } from './store';

/** What a {@link Session} needs of its request: its id, and the store its methods call. */
export interface SessionRequest {
  sessionID: string;
  sessionStore: Store;
  session?: Session | null;
}

const ignore = () => undefined;

/**
 * A session as express-session models it, for stores and code written against express-session:
 * what `Store#createSession` and `Store#load` build (and so what express-session's own
 * middleware works with when it is given a Tessera store). Its data are its own keys, `cookie`
 * among them; `id` and `req` are read-only and not enumerable, and its methods call the
 * request's `sessionStore` with node-style callbacks and return the session, for chaining.
 *
 * The sessions of `@tessera/session/express` itself are Tessera's own: the same members, whose
 * methods also return a Promise.
 *
 * @publicApi
 */
export class Session {
  // `declare`: as class fields, these would be own keys of every session (see the constructor).
  declare readonly req: SessionRequest;
  declare readonly id: string;
  declare cookie: Cookie;
  [key: string]: unknown;

  /** Takes `data`'s keys (not the ones a session has already: its methods, `id`, `req`). */
  constructor(req: SessionRequest, data?: object | null) {
    Object.defineProperty(this, 'req', { value: req });
    Object.defineProperty(this, 'id', { value: req.sessionID });
    if (typeof data === 'object' && data !== null) {
      const source = data as Record<string, unknown>;
      // `in` also keeps out `__proto__` and the rest of what every object inherits.
      for (const key in source) if (!(key in this)) this[key] = source[key];
    }
  }

  /** Resets `cookie.maxAge` to its original value (express-session's middleware does it). */
  touch(): this {
    return this.resetMaxAge();
  }

  /** Starts the cookie's lifetime again: `maxAge` back to `originalMaxAge`. */
  resetMaxAge(): this {
    this.cookie.maxAge = this.cookie.originalMaxAge;
    return this;
  }

  /** Writes the whole session to the store, replacing what it held. */
  save(callback?: NodeCallback): this {
    this.req.sessionStore.set(this.id, this, callback ?? ignore);
    return this;
  }

  /** Reads the session from the store again; `req.session` is then a new object for it. */
  reload(callback: NodeCallback): this {
    const { req } = this;
    const store = req.sessionStore;
    store.get(this.id, (err, record) => {
      if (err) return callback(err);
      if (!record) return callback(new Error('failed to load session'));
      store.createSession(req, record);
      callback(null);
    });
    return this;
  }

  /** Removes `req.session` and the stored session. */
  destroy(callback?: NodeCallback): this {
    delete this.req.session;
    this.req.sessionStore.destroy(this.id, callback ?? ignore);
    return this;
  }

  /** Destroys the session and puts a new one on the request (through the store). */
  regenerate(callback: NodeCallback): this {
    this.req.sessionStore.regenerate(this.req, callback);
    return this;
  }
}
