import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  expiresAt,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { ConnectCompatibleStore } from '../stores/connect-store.base';
import type { SessionStore } from '../stores/session-store.interface';
import type { SessionEntity } from './session.entity';
import { SessionTable, type Row, type RowValues } from './session-table';
import { resolveOptions, type TypeOrmStoreOptions } from './typeorm-store.options';

/** What `get()` read, kept per object it returned, so that `patch()` can write conditionally. */
interface ReadState {
  readonly version: number;
  /** The record as read, as text: the caller may mutate the object it was handed. */
  readonly json: string;
  /** The row's expiry as read: a write that finds the row at this version finds it too. */
  readonly expiresAt: number;
}

/**
 * Beyond this many conflicting writes in a row, a write gives up with an error rather than spin.
 * Every conflict means another write succeeded, so N concurrent writes of one session all land
 * within N attempts: this bounds a pathological loop, not ordinary concurrency.
 */
const MAX_WRITE_ATTEMPTS = 64;

/**
 * A session store in the app's SQL database through TypeORM, on PostgreSQL or SQLite: one row per
 * session (see `SessionEntity`). Expired rows are never returned, and are deleted in bounded
 * batches by a background timer (unref'd, stopped on app shutdown) and by `prune()`.
 *
 * Reading a session is one SELECT by primary key. Writing a changed session is one UPDATE
 * conditioned on the row's version; when another request wrote in between, the store re-reads
 * the row, re-applies this request's change to it and retries, so concurrent requests that change
 * different keys all keep their change. No explicit transaction, no lock held across a request.
 *
 * Every method returns a Promise and also takes a trailing node-style callback, and the store
 * can be handed to express-session as it is.
 *
 * @publicApi
 * @example
 * ```ts
 * SessionModule.forRootAsync({
 *   inject: [DataSource],
 *   useFactory: (dataSource: DataSource) => ({
 *     secret: process.env.SESSION_SECRET!,
 *     store: new TypeOrmStore({ dataSource }),
 *   }),
 * })
 * ```
 */
export class TypeOrmStore<E extends SessionEntity = SessionEntity>
  extends ConnectCompatibleStore
  implements SessionStore
{
  private readonly table: SessionTable;
  private readonly ttl: number;
  private readonly batchSize: number;
  private readonly columns?: (session: StoredSession) => object;
  private readonly reads = new WeakMap<object, ReadState>();
  private cleanupTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;

  constructor(options: TypeOrmStoreOptions<E>) {
    super();
    const resolved = resolveOptions(options as TypeOrmStoreOptions);
    this.table = new SessionTable(resolved.source);
    this.ttl = resolved.ttl;
    this.batchSize = resolved.batchSize;
    this.columns = resolved.columns;
    // Fail at start-up on an entity the DataSource lacks; a DataSource not initialized yet (the
    // app initializes it after building the store) is checked on first use instead.
    if (!('dataSource' in resolved.source) || resolved.source.dataSource.isInitialized)
      this.table.check();
    if (resolved.cleanupInterval > 0) {
      // A failed cleanup is simply tried again at the next tick; a database that is down shows
      // on requests, where it gets reported.
      this.cleanupTimer = setInterval(
        () => void this.prune().catch(() => undefined),
        resolved.cleanupInterval,
      );
      // The cleanup must never be what keeps a process alive.
      this.cleanupTimer.unref();
    }
  }

  get(sid: string, callback?: NodeCallback<StoredSession | null>): Promise<StoredSession | null> {
    const read = async () => {
      const row = await this.table.select(sid, Date.now());
      if (!row) return null;
      const session = JSON.parse(row.data) as StoredSession;
      this.reads.set(session, { version: row.version, json: row.data, expiresAt: row.expiresAt });
      return session;
    };
    return withCallback(read(), callback);
  }

  set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
    const write = async () => this.table.upsert(sid, this.values(session));
    return withCallback(write(), callback);
  }

  /**
   * Applies one request's change to the row as it is now (see `SessionChange`); resolves `false`,
   * having written nothing, when the row is gone or expired: a patch never creates a session.
   */
  patch(sid: string, change: SessionChange, callback?: NodeCallback<boolean>): Promise<boolean> {
    const write = async () => {
      const known = change.base ? this.reads.get(change.base) : undefined;
      // A base this store did not hand out has no version on record, and one that has expired
      // since may have been extended by another request's touch: read the row (rare).
      const row: Row | undefined =
        known && known.expiresAt > Date.now()
          ? { data: known.json, version: known.version, expiresAt: known.expiresAt }
          : await this.table.select(sid);
      return this.merge(sid, change, row);
    };
    return withCallback(write(), callback);
  }

  /**
   * Extends the expiry of a live session and stores `session.cookie` in its record with it, so
   * that no reader sees an extended session whose cookie says it has expired. The other keys are
   * left as they are: this is a versioned write of the cookie alone, after one read of the row
   * (a touch is not told which read it follows). Resolves `false` when there is no live row.
   */
  touch(sid: string, session: StoredSession, callback?: NodeCallback<boolean>): Promise<boolean> {
    const write = async () => {
      const row = await this.table.select(sid, Date.now());
      const change = { set: { cookie: session.cookie }, unset: [], session, base: null };
      return this.merge(sid, change, row);
    };
    return withCallback(write(), callback);
  }

  destroy(sid: string, callback?: NodeCallback): Promise<void> {
    return withCallback(this.table.delete(sid), callback);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    return withCallback(this.table.count(Date.now()), callback);
  }

  clear(callback?: NodeCallback): Promise<void> {
    return withCallback(this.table.deleteAll(), callback);
  }

  ids(callback?: NodeCallback<string[]>): Promise<string[]> {
    const ids = async () => (await this.table.list(Date.now(), false)).map((row) => row.id);
    return withCallback(ids(), callback);
  }

  all(
    callback?: NodeCallback<Record<string, StoredSession>>,
  ): Promise<Record<string, StoredSession>> {
    const all = async () => {
      const rows = await this.table.list(Date.now(), true);
      return Object.fromEntries(
        rows.map((row) => [row.id, JSON.parse(row.data!) as StoredSession]),
      );
    };
    return withCallback(all(), callback);
  }

  /**
   * Deletes the rows expired by now, `batchSize` per statement until fewer remain, and resolves
   * to how many it deleted. The cleanup timer calls it every `cleanupInterval`; a call made
   * while a cleanup runs shares that run.
   */
  prune(callback?: NodeCallback<number>): Promise<number> {
    this.pruning ??= this.deleteExpired().finally(() => (this.pruning = undefined));
    return withCallback(this.pruning, callback);
  }

  /**
   * Stops the cleanup timer and waits for a cleanup in progress. The DataSource is the app's:
   * the store leaves it open.
   */
  async close(): Promise<void> {
    clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await this.pruning?.catch(() => undefined);
  }

  /** Called by Nest when the application shuts down (the store is a provider's value). */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /**
   * Writes `change` onto `row` (the row as last read) if the row is still at that version;
   * otherwise re-reads it and tries again. Resolves `false` once the row is missing or expired:
   * a session that is gone stays gone.
   */
  private async merge(sid: string, change: SessionChange, row: Row | undefined): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      if (!row || row.expiresAt <= Date.now()) return false;
      const values = this.values(applyChange(JSON.parse(row.data) as StoredSession, change));
      if (await this.table.update(sid, values, row.version)) {
        // The row now holds this at version + 1: a second save of the request needs no re-read.
        if (change.base) {
          const { data: json, expiresAt } = values;
          this.reads.set(change.base, { version: row.version + 1, json, expiresAt });
        }
        return true;
      }
      row = await this.table.select(sid);
    }
    throw new Error(
      `TypeOrmStore: the session was written concurrently ${MAX_WRITE_ATTEMPTS} times while one change was being applied; gave up`,
    );
  }

  private async deleteExpired(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const count = await this.table.deleteExpired(Date.now(), this.batchSize);
      deleted += count;
      if (count < this.batchSize) return deleted;
    }
  }

  /** The row values of a session; throws on a value JSON cannot hold (a cycle, a BigInt). */
  private values(session: StoredSession): RowValues {
    let data: string;
    try {
      data = JSON.stringify(session);
    } catch (err) {
      throw new TypeError(
        `TypeOrmStore cannot store this session as JSON: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return { data, expiresAt: expiresAt(session, this.ttl), extra: this.columns?.(session) ?? {} };
  }
}
