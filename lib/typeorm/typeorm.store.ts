import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  expiresAt,
  userOf,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { CONFLICT, cookieOnlyChange, retryOnConflict } from '../core/store-support';
import { markPromiseMethods } from '../core/store-gateway';
import { ConnectCompatibleStore } from '../stores/connect-store.base';
import type { IndexedSession, SessionStore } from '../stores/session-store.interface';
import type { SessionEntity } from './session.entity';
import { SessionTable, type MergeValues, type RowChange, type RowValues } from './session-table';
import { resolveOptions, type TypeOrmStoreOptions } from './typeorm-store.options';

/**
 * A session store in the app's SQL database through TypeORM, on PostgreSQL or SQLite: one row per
 * session (see `SessionEntity`). Expired rows are never returned, and are deleted in bounded
 * batches by a background timer (unref'd, stopped on app shutdown) and by `prune()`.
 *
 * Reading a session is one SELECT by primary key. Writing a changed session is one UPDATE in which
 * the database itself merges the request's changed keys into the stored JSON (jsonb on
 * PostgreSQL, the JSON functions on SQLite), only if the row is still there and unexpired: so
 * concurrent requests that change different keys all keep their change, none waits on or retries
 * after another, and a destroyed session stays gone. The rare change that cannot be said that way
 * (a NUL or lone surrogate on PostgreSQL, an odd key on SQLite) is applied in JS instead and written conditioned on
 * the row's version, re-read and retried on a conflict. No explicit transaction, no lock held
 * across a request.
 *
 * The per-user index of the `userId` option is the indexed `user_id` column (`SessionEntity.user`),
 * which every write sets from the record's `cookie.user` in the same statement as the data:
 * `findByUser` is one SELECT and `destroyByUser` one DELETE.
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
      this.table.ensureEntity();
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
      return row ? (JSON.parse(row.data) as StoredSession) : null;
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
   * One UPDATE, whatever was written since the request read the session: `change.base` is not
   * needed. The extra columns (`columns`) are computed from `change.session`, the request's
   * whole view of the session, as the merged record is never in JS.
   */
  patch(sid: string, change: SessionChange, callback?: NodeCallback<boolean>): Promise<boolean> {
    const write = async () => {
      const values = {
        expiresAt: this.expiryOf(change),
        user: userOfChange(change),
        extra: this.columns?.(change.session) ?? {},
      };
      return this.write(sid, change, values);
    };
    return withCallback(write(), callback);
  }

  /**
   * Extends the expiry of a live session and stores `session.cookie` in its record with it, so
   * that no reader sees an extended session whose cookie says it has expired. The other keys
   * (and an extended entity's columns, which follow them) are left as they are: one UPDATE of the
   * cookie key, the expiry and the user column (which follows the cookie's `user`). Resolves
   * `false` when there is no live row.
   */
  touch(sid: string, session: StoredSession, callback?: NodeCallback<boolean>): Promise<boolean> {
    const change = cookieOnlyChange(session);
    const values = {
      expiresAt: expiresAt(session, this.ttl),
      user: userOfChange(change),
      extra: {},
    };
    return withCallback(this.write(sid, change, values), callback);
  }

  destroy(sid: string, callback?: NodeCallback): Promise<void> {
    return withCallback(this.table.delete(sid), callback);
  }

  /**
   * The live sessions of `user` (the `userId` option's per-user index), in no set order: one
   * SELECT of the rows whose user column is `user` and that have not expired.
   */
  findByUser(user: string, callback?: NodeCallback<IndexedSession[]>): Promise<IndexedSession[]> {
    const find = async () => {
      const rows = await this.table.selectByUser(user, Date.now());
      return rows.map((row) => ({ id: row.id, session: JSON.parse(row.data) as StoredSession }));
    };
    return withCallback(find(), callback);
  }

  /**
   * Destroys every live session of `user` but the one of `exceptId` (when given), in one DELETE,
   * and resolves how many it destroyed. Expired rows of the user are not counted; the cleanup
   * deletes them.
   */
  destroyByUser(
    user: string,
    exceptId: string | undefined,
    callback?: NodeCallback<number>,
  ): Promise<number> {
    return withCallback(this.table.deleteByUser(user, Date.now(), exceptId), callback);
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

  /** Has the database merge `change` into the row, or else takes the versioned path. */
  private async write(sid: string, change: SessionChange, values: MergeValues): Promise<boolean> {
    const merged = await this.table.merge(sid, rowChange(change), values, Date.now());
    return merged ?? this.writeVersioned(sid, change, values);
  }

  /**
   * Reads the row, applies `change` to it in JS and writes it back if the row is still at that
   * version; otherwise re-reads it and tries again. Resolves `false` once the row is missing or
   * expired: a session that is gone stays gone.
   */
  private async writeVersioned(
    sid: string,
    change: SessionChange,
    values: MergeValues,
  ): Promise<boolean> {
    return retryOnConflict('TypeOrmStore', sid, async () => {
      const row = await this.table.select(sid);
      if (!row || row.expiresAt <= Date.now()) return false;
      // Data, expiry and user from the merged record, as the single statement would have them.
      const { data, expiresAt, user } = this.values(
        applyChange(JSON.parse(row.data) as StoredSession, change),
      );
      const written = await this.table.update(
        sid,
        { data, expiresAt, user, extra: values.extra },
        row.version,
      );
      return written ? true : CONFLICT;
    });
  }

  /**
   * The expiry a patch gives the row: the one of the cookie it writes (every request's patch
   * does); with no cookie in the change, the record keeps its cookie, so the row keeps the expiry
   * that goes with it (`undefined`), except that a browser-session cookie's is `now + ttl`.
   */
  private expiryOf(change: SessionChange): number | undefined {
    if (Object.hasOwn(change.set, 'cookie'))
      return expiresAt({ cookie: change.set.cookie } as StoredSession, this.ttl);
    return change.session.cookie?.expires ? undefined : Date.now() + this.ttl;
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
    return {
      data,
      expiresAt: expiresAt(session, this.ttl),
      user: userOf(session) ?? null,
      extra: this.columns?.(session) ?? {},
    };
  }
}

// Its methods return Promises; an override in a subclass is called as it asks (see the gateway).
markPromiseMethods(TypeOrmStore.prototype);

/**
 * The user column a patch or touch gives the row: the user of the cookie the change writes (each
 * request's patch and every touch write one, carrying the user), `null` when that cookie has
 * none. A change without a cookie leaves the record its cookie, so the row keeps its user
 * (`undefined`): the column always names the user of the stored record.
 */
function userOfChange(change: SessionChange): string | null | undefined {
  if (!Object.hasOwn(change.set, 'cookie')) return undefined;
  return userOf({ cookie: change.set.cookie } as StoredSession) ?? null;
}

/**
 * `change` as the database merges it: each written key with its value as JSON text. A key whose
 * value JSON leaves out (undefined, a function) is deleted, as it is from `JSON.stringify` of the
 * merged record. Throws, before any statement, on a value JSON cannot hold (a cycle, a BigInt).
 */
function rowChange(change: SessionChange): RowChange {
  let written: Record<string, unknown>;
  try {
    // One stringify of the whole object: toJSON() gets called with its key, as it would be.
    written = JSON.parse(JSON.stringify(change.set)) as Record<string, unknown>;
  } catch (err) {
    throw new TypeError(
      `TypeOrmStore cannot store this session as JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const set = Object.keys(written).map((key) => [key, JSON.stringify(written[key])] as const);
  const dropped = Object.keys(change.set).filter((key) => !Object.hasOwn(written, key));
  return { set, unset: [...change.unset, ...dropped] };
}
