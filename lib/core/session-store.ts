import type { NodeCallback } from './callback';
import type { SessionChange, StoredSession } from './stored-session';

/** One live session of a user, as the per-user index finds it. */
export interface IndexedSession {
  readonly id: string;
  readonly session: StoredSession;
}

/**
 * Where session data lives. Every store implements `get`, `set` and `destroy`; the rest is
 * optional and used when present.
 *
 * Tessera calls a store with Promise-style arguments and also passes a trailing node-style
 * callback, so both kinds of store work: the built-in ones (which return Promises) and any
 * connect / express-session store (connect-redis, connect-pg-simple, …), which call back.
 *
 * @publicApi
 * @example
 * ```ts
 * class MyStore implements SessionStore {
 *   async get(sid: string) { … }
 *   async set(sid: string, session: StoredSession) { … }
 *   async destroy(sid: string) { … }
 * }
 * ```
 */
export interface SessionStore {
  /** The stored session, or `null`/`undefined` when it is absent or expired. */
  get(
    sid: string,
    callback?: NodeCallback<StoredSession | null>,
  ): Promise<StoredSession | null | undefined> | void;
  /** Creates or replaces a session; the store derives its expiry from `session.cookie`. */
  set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> | void;
  /** Removes a session; an absent one is not an error. */
  destroy(sid: string, callback?: NodeCallback): Promise<void> | void;
  /**
   * Extends a live session's expiry (from `session.cookie`) without rewriting its data, and
   * resolves `true`. When there is no live record for `sid` it creates nothing and resolves
   * `false`. A store that also implements `patch` must store `session.cookie` in the record too,
   * so that the record's `cookie.expires` and the store's own expiry agree; Tessera uses the
   * `touch` of stores without `patch` only through a patch of the cookie.
   */
  touch?(
    sid: string,
    session: StoredSession,
    callback?: NodeCallback<boolean | void>,
  ): Promise<boolean | void> | void;
  /**
   * Applies one request's changes atomically to the record as it is now (see `SessionChange`)
   * and resolves `true`. Never creates a record: when there is no live record for `sid` (it was
   * destroyed or has expired since the request loaded it) it writes nothing and resolves
   * `false`, so that a request in flight cannot bring back a session that was logged out; new
   * sessions are written with `set`. A store whose `patch` resolves `undefined` is taken to have
   * applied it. Tessera's extension to the connect store contract: without it, a changed session
   * is re-read and merged before `set`, which narrows but does not close the window in which a
   * concurrent write to another key can be lost.
   */
  patch?(
    sid: string,
    change: SessionChange,
    callback?: NodeCallback<boolean | void>,
  ): Promise<boolean | void> | void;
  /** How many live sessions the store holds. */
  length?(callback?: NodeCallback<number>): Promise<number> | void;
  /** Removes every session. */
  clear?(callback?: NodeCallback): Promise<void> | void;
  /** Every live session, by id. */
  all?(
    callback?: NodeCallback<Record<string, StoredSession>>,
  ): Promise<Record<string, StoredSession> | StoredSession[]> | void;
  /** Every live session id. */
  ids?(callback?: NodeCallback<string[]>): Promise<string[]> | void;
  /**
   * The per-user index, which the module option `userId` turns on; a store has both methods or
   * neither. The user of a record is the string in its `cookie.user` (see `userOf()`), which
   * Tessera writes with every `set`, `patch` and `touch`: the store indexes a session under it
   * when it is written, moves it when it changes, and drops it when the session is destroyed,
   * evicted or expires.
   *
   * `findByUser` resolves the user's live sessions, in any order: never one that is expired or
   * destroyed, nor one that now belongs to another user.
   */
  findByUser?(
    user: string,
    callback?: NodeCallback<IndexedSession[]>,
  ): Promise<IndexedSession[]> | void;
  /**
   * Destroys every live session of `user` but the one with id `exceptId` (when given), and
   * resolves how many it destroyed.
   */
  destroyByUser?(
    user: string,
    exceptId: string | undefined,
    callback?: NodeCallback<number>,
  ): Promise<number> | void;
}
