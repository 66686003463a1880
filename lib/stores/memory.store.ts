import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  expiresAt,
  userOf,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { storeTtl } from '../core/store-support';
import { markSettledMethods } from '../core/store-gateway';
import { ConnectCompatibleStore } from './connect-store.base';
import type { IndexedSession, SessionStore } from './session-store.interface';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most sessions kept at once; past it, the least recently written session is dropped.
   * @default 100_000
   */
  max?: number;
  /**
   * How long (ms) a session whose cookie has no expiry (a browser-session cookie) is kept.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * How often (ms) expired sessions are swept out without waiting for them to be read; `0`
   * turns the sweep off.
   * @default 60_000
   */
  sweepInterval?: number;
}

interface MemoryEntry {
  /** The session as JSON text: every `get` hands out a fresh copy, as a remote store would. */
  readonly json: string;
  expiresAt: number;
  /** The record's `cookie.user`: where the entry is in the per-user index, if anywhere. */
  readonly user: string | undefined;
}

/**
 * A session store in this process's memory: the default, for development, tests and single
 * instance apps. Bounded by `max`, with expired sessions reclaimed by a periodic sweep.
 * Sessions are lost when the process exits and are not shared between processes: use
 * `RedisStore` or `TypeOrmStore` for that. Also works as an express-session store.
 *
 * Keeps the per-user index (`findByUser`, `destroyByUser`) of the `userId` option: a map from
 * each user to the ids of their sessions, updated by the same step that writes or drops an entry.
 *
 * @publicApi
 * @example
 * ```ts
 * SessionModule.forRoot({ secret, store: new MemoryStore({ max: 10_000 }) })
 * ```
 */
export class MemoryStore extends ConnectCompatibleStore implements SessionStore {
  private readonly entries = new Map<string, MemoryEntry>();
  /**
   * The ids of each user's entries (see `MemoryEntry.user`). Only `index` and `remove` change
   * it, so it always holds exactly the entries' users, and a user with no entry left has no key.
   */
  private readonly idsByUser = new Map<string, Set<string>>();
  /**
   * Each record `get` handed out, and the entry it was read from. A patch whose `base` is such a
   * record, of an entry not rewritten since, merges onto it instead of reading the entry again:
   * the core never changes the record it is given (it copies the keys onto the session), and
   * what a handler changed in a nested value is among the patch's own keys.
   */
  private readonly max: number;
  private readonly ttl: number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.max = options.max ?? 100_000;
    this.ttl = storeTtl('MemoryStore', options.ttl);
    if (!(Number.isInteger(this.max) && this.max > 0)) {
      throw new TypeError(
        `MemoryStore option "max" must be a positive integer, got ${String(options.max)}`,
      );
    }
    const sweepInterval = options.sweepInterval ?? 60_000;
    if (sweepInterval > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), sweepInterval);
      // The sweep must never be what keeps a process alive.
      this.sweepTimer.unref();
    }
  }

  get(sid: string, callback?: NodeCallback<StoredSession | null>): Promise<StoredSession | null> {
    const entry = this.unexpired(sid);
    if (!entry) return withCallback(Promise.resolve(null), callback);
    const session = JSON.parse(entry.json) as StoredSession;
    Object.defineProperty(session, READ_FROM, { value: entry });
    return withCallback(Promise.resolve(session), callback);
  }

  set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
    return withCallback(
      attempt(() => this.write(sid, session)),
      callback,
    );
  }

  /** Applies one request's change to the live record; resolves `false` when there is none. */
  patch(sid: string, change: SessionChange, callback?: NodeCallback<boolean>): Promise<boolean> {
    // Read, merge and write in one synchronous step: no other request can interleave.
    return withCallback(
      attempt(() => this.update(sid, (current) => applyChange(current, change), change.base)),
      callback,
    );
  }

  touch(sid: string, session: StoredSession, callback?: NodeCallback<boolean>): Promise<boolean> {
    // The stored cookie moves with the expiry: a reader must never see an extended session
    // whose cookie still says it has expired.
    return withCallback(
      attempt(() => this.update(sid, (current) => ({ ...current, cookie: session.cookie }))),
      callback,
    );
  }

  destroy(sid: string, callback?: NodeCallback): Promise<void> {
    this.remove(sid);
    return withCallback(Promise.resolve(), callback);
  }

  /** The live sessions of `user` (the `userId` option's per-user index), in no set order. */
  findByUser(user: string, callback?: NodeCallback<IndexedSession[]>): Promise<IndexedSession[]> {
    const found: IndexedSession[] = [];
    for (const sid of this.idsOf(user)) {
      const session = this.read(sid);
      if (session) found.push({ id: sid, session });
    }
    return withCallback(Promise.resolve(found), callback);
  }

  /** Destroys every live session of `user` but `exceptId`; resolves how many it destroyed. */
  destroyByUser(
    user: string,
    exceptId: string | undefined,
    callback?: NodeCallback<number>,
  ): Promise<number> {
    let destroyed = 0;
    for (const sid of this.idsOf(user)) {
      // An expired entry was no live session: unexpired() drops it, uncounted.
      if (sid === exceptId || !this.unexpired(sid)) continue;
      this.remove(sid);
      destroyed++;
    }
    return withCallback(Promise.resolve(destroyed), callback);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    this.sweep();
    return withCallback(Promise.resolve(this.entries.size), callback);
  }

  clear(callback?: NodeCallback): Promise<void> {
    this.entries.clear();
    this.idsByUser.clear();
    return withCallback(Promise.resolve(), callback);
  }

  ids(callback?: NodeCallback<string[]>): Promise<string[]> {
    this.sweep();
    return withCallback(Promise.resolve([...this.entries.keys()]), callback);
  }

  all(
    callback?: NodeCallback<Record<string, StoredSession>>,
  ): Promise<Record<string, StoredSession>> {
    this.sweep();
    const sessions: Record<string, StoredSession> = {};
    for (const [sid, entry] of this.entries)
      sessions[sid] = JSON.parse(entry.json) as StoredSession;
    return withCallback(Promise.resolve(sessions), callback);
  }

  /** Removes every expired session now (the timer does this every `sweepInterval`). */
  sweep(now = Date.now()): void {
    for (const [sid, entry] of this.entries) {
      if (entry.expiresAt <= now) this.remove(sid);
    }
  }

  /** Stops the sweep timer. Called by Nest when the application shuts down. */
  close(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  onApplicationShutdown(): void {
    this.close();
  }

  private unexpired(sid: string): MemoryEntry | undefined {
    const entry = this.entries.get(sid);
    if (entry && entry.expiresAt <= Date.now()) {
      this.remove(sid);
      return undefined;
    }
    return entry;
  }

  private read(sid: string): StoredSession | null {
    const entry = this.unexpired(sid);
    return entry ? (JSON.parse(entry.json) as StoredSession) : null;
  }

  /**
   * Rewrites the live record of `sid` with `next(record)`; a gone session stays gone. `base`, a
   * record `get` handed out, stands for the entry when the entry has not been rewritten since.
   */
  private update(
    sid: string,
    next: (current: StoredSession) => StoredSession,
    base?: StoredSession | null,
  ): boolean {
    const entry = this.unexpired(sid);
    if (!entry) return false;
    const current =
      base && (base as { [READ_FROM]?: MemoryEntry })[READ_FROM] === entry
        ? base
        : (JSON.parse(entry.json) as StoredSession);
    this.write(sid, next(current));
    return true;
  }

  private write(sid: string, session: StoredSession): void {
    const entry: MemoryEntry = {
      json: JSON.stringify(session),
      expiresAt: expiresAt(session, this.ttl),
      user: userOf(session),
    };
    // Re-inserting moves the id to the end of the Map's order, so the first key is always the
    // least recently written one: the one to drop when the store is full. Removing first also
    // takes the id out of its previous user's index, should the user have changed.
    this.remove(sid);
    this.entries.set(sid, entry);
    this.index(sid, entry.user);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
    }
  }

  /** Drops the entry of `sid`, and its id from its user's index. */
  private remove(sid: string): void {
    const entry = this.entries.get(sid);
    if (!entry) return;
    this.entries.delete(sid);
    if (entry.user === undefined) return;
    const ids = this.idsByUser.get(entry.user);
    ids?.delete(sid);
    // No key for a user with no session left: the index never outgrows the entries.
    if (ids?.size === 0) this.idsByUser.delete(entry.user);
  }

  private index(sid: string, user: string | undefined): void {
    if (user === undefined) return;
    let ids = this.idsByUser.get(user);
    if (!ids) this.idsByUser.set(user, (ids = new Set()));
    ids.add(sid);
  }

  /** A snapshot of the ids indexed under `user`, safe to iterate while entries are removed. */
  private idsOf(user: string): string[] {
    return [...(this.idsByUser.get(user) ?? [])];
  }
}

// Its methods return Promises that are settled when they return (no I/O): the gateway arms no
// deadline for them. An override in a subclass is called as it asks (see the gateway).
markSettledMethods(MemoryStore.prototype);

const READ_FROM = Symbol('tessera:read-from');

/** Runs `fn` and turns a synchronous throw (a value JSON cannot hold) into a rejection. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
