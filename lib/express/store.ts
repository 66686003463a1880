import { EventEmitter } from 'node:events';
import type { NodeCallback } from '../core/callback';
import type { StoredSession } from '../core/stored-session';
import { Cookie } from './cookie';
import { Session, type SessionRequest } from './session';

/** A stored session as a store hands it out, or takes it (a whole {@link Session}, say). */
type Record = StoredSession | Session;

/* eslint-disable @typescript-eslint/no-explicit-any -- as express-session's stores type them */
/** What `set` and `destroy` call back with. */
export type StoreCallback = (err?: any) => void;
/** What `get` calls back with. */
export type GetCallback = (err: any, session?: StoredSession | null) => void;
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * The base class of a session store, shaped as express-session's `Store`: an `EventEmitter`
 * (express-session listens for `connect` and `disconnect`) with the helpers express-session
 * calls on its store: `createSession`, `load` and `regenerate`, built on the store's own `get`
 * and `destroy`. A store that extends it works with express-session and with Tessera alike
 * (`@tessera/session/express`'s `session()`, or `SessionModule`), whether its methods call back
 * or return Promises. Tessera's own stores extend it.
 *
 * @publicApi
 * @example
 * ```ts
 * class MyStore extends Store {
 *   get(sid: string, callback: (err: unknown, session?: StoredSession | null) => void) { … }
 *   set(sid: string, session: StoredSession, callback?: (err?: unknown) => void) { … }
 *   destroy(sid: string, callback?: (err?: unknown) => void) { … }
 * }
 * ```
 */
export abstract class Store extends EventEmitter {
  /** Set by express-session's middleware on the store it is given: makes a request's new session. */
  declare generate?: (req: SessionRequest) => void;

  /** The stored session, or `null`/`undefined` when there is none. */
  abstract get(sid: string, callback: GetCallback): unknown;
  /** Creates or replaces a session. */
  abstract set(sid: string, session: Record, callback?: StoreCallback): unknown;
  /** Removes a session; an absent one is not an error. */
  abstract destroy(sid: string, callback?: StoreCallback): unknown;

  /**
   * Destroys the request's session and makes it a new one: express-session's `generate` when it
   * set one on this store, else the request's own session's `regenerate()` (a Tessera session).
   */
  regenerate(req: SessionRequest, callback: NodeCallback): void {
    const generate = this.generate;
    if (typeof generate !== 'function') {
      const session = req.session as { regenerate?(callback: NodeCallback): unknown } | undefined;
      if (typeof session?.regenerate === 'function') session.regenerate(callback);
      else callback(new TypeError('Store regenerate() needs a request with a session'));
      return;
    }
    this.destroy(req.sessionID, (err) => {
      generate.call(this, req);
      callback(err);
    });
  }

  /** Loads session `sid` as a {@link Session} of its own; `undefined` when there is none. */
  load(sid: string, callback: NodeCallback<Session | undefined>): void {
    this.get(sid, (err, record) => {
      if (err) return callback(err);
      if (!record) return callback(null);
      callback(null, this.createSession({ sessionID: sid, sessionStore: this }, record));
    });
  }

  /**
   * Makes `record` (a stored session, as `get` hands it out) the request's session: its cookie
   * becomes a {@link Cookie} with its expiry as a `Date` and its lifetime kept, and
   * `req.session` a {@link Session} of it. `record` itself is changed, as express-session does.
   */
  createSession(req: SessionRequest, record: Record): Session {
    const stored = record as StoredSession;
    const { expires, originalMaxAge } = stored.cookie;
    const cookie = new Cookie(stored.cookie as never);
    if (typeof expires === 'string') cookie.expires = new Date(expires);
    // Setting `expires` recomputed it from now: the stored lifetime is the one that holds.
    cookie.originalMaxAge = originalMaxAge;
    (stored as unknown as { cookie: Cookie }).cookie = cookie;
    req.session = new Session(req, stored);
    return req.session;
  }
}
