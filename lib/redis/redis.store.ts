import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  expiresAt,
  isExpired,
  userOf,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { ConnectCompatibleStore } from '../stores/connect-store.base';
import type { IndexedSession, SessionStore } from '../stores/session-store.interface';
import { redact } from '../core/redact';
import { CONFLICT, cookieOnlyChange, retryOnConflict, storeTtl } from '../core/store-support';
import { markPromiseMethods } from '../core/store-gateway';
import { SessionCodec } from './redis.codec';
import { driverFor, scanKeys, type Driver } from './redis.driver';
import { NOT_A_SESSION, patchArgs, SCRIPTS, type ScriptName } from './redis.scripts';
import type { RedisStoreOptions } from './redis-store.options';

/**
 * Put between the prefix and a user id to name that user's index. `~` is in no id that
 * base64url (the default `genid`), uid-safe (express-session's), UUIDs or hex produce, so no
 * session key (`prefix` + id) is ever an index key, and SCAN can tell the two apart by name.
 */
const USER_INDEX = '~user:';

/**
 * A session store on Redis, for apps that run as many processes or machines: they all see the
 * same sessions. Each session is one key, `prefix` + id, holding the JSON text of the session
 * (its data plus a `cookie` key, as express-session and connect-redis store it) with Redis's own
 * TTL set from the cookie's expiry. The client is the app's own ioredis `Redis` or `Cluster`, or
 * node-redis `createClient()` / `createCluster()` (v4 or later); the store never closes it.
 *
 * One command per call: `get` is a GET, `set` a SET … PX (a script when the session has a user:
 * see the index below), `destroy` a DEL, and `patch` one Lua script (EVALSHA) that merges a
 * request's changed keys into the record as it is now, so concurrent requests changing
 * different keys of one session all keep their change; `touch` is that script too, changing
 * only the stored cookie along with the TTL so the two agree. Neither ever creates a key: for a
 * session that is gone they write nothing and resolve `false`; a key that holds something else
 * than a session makes them reject and is left as it is.
 *
 * The per-user index (`findByUser`, `destroyByUser`; the module option `userId` turns it on by
 * writing the user into each record's `cookie.user`). Keys, under `prefix` (`sess:` here):
 *
 * | key                 | type       | holds                                   | expires            |
 * | ------------------- | ---------- | --------------------------------------- | ------------------ |
 * | `sess:<id>`         | string     | the session's JSON text                 | with its cookie    |
 * | `sess:~user:<user>` | sorted set | member: a session id of the user;       | raised to cover    |
 * |                     |            | score: when it expires (ms since epoch) | its last member    |
 *
 * A write of a session with a user adds it to that user's index, or raises its score (never
 * lowers it, so the score always covers the session's expiry), and raises the index key's TTL
 * to cover it; a write whose user changed (the previous one is `userOf(change.base)`) also
 * removes it from the previous user's index. Members whose score has passed are trimmed
 * (ZREMRANGEBYSCORE) whenever the index is written or read, and the key goes with its
 * longest-lived member. On standalone Redis this is done inside the script that writes the
 * session, so both change together, and the call is still one command. On Cluster the index
 * key is in another slot: the session is written first, then the index, by one more command (two
 * when the user changed), so the index may lag a write but never lists a session before it is
 * written; should that command fail, the call rejects, and the session's next write or touch
 * indexes it again. A write of a session without a user, and every `get`, cost nothing more.
 * `destroy` is a DEL only: it does not know the user, so the member stays until read or expired.
 *
 * Reads check what the index says: `findByUser` reads each member's record, lists it only while
 * it is live and still names the user, and removes the others from the index (dead members left
 * by `destroy`, a plain DEL, a write that set another user without saying the previous one, or
 * another writer). `destroyByUser` reads the same way, then deletes what it listed: a
 * session that now belongs to someone else is never destroyed for this user.
 *
 * While the client is not connected every call rejects at once, rather than waiting in the
 * client's offline queue; the first call after the client reconnects goes through. Also an
 * express-session store (`session({ store })`).
 *
 * @publicApi
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisStore } from '@tessera/session/redis';
 *
 * SessionModule.forRoot({ secret, store: new RedisStore({ client: new Redis(process.env.REDIS_URL) }) })
 * ```
 */
export class RedisStore extends ConnectCompatibleStore implements SessionStore {
  /** The key prefix, `sess:` unless given. */
  readonly prefix: string;
  private readonly ttl: number;
  private readonly scanCount: number;
  private readonly codec: SessionCodec;
  private readonly driver: Driver;
  private seenReady = false;

  constructor(options: RedisStoreOptions) {
    super();
    this.driver = driverFor(options?.client);
    this.prefix = options.prefix ?? 'sess:';
    this.ttl = storeTtl('RedisStore', options.ttl);
    this.scanCount = options.scanCount ?? 100;
    const logger = options.logger === false ? undefined : (options.logger ?? console);
    this.codec = new SessionCodec(options.serializer, logger);
    if (!(Number.isInteger(this.scanCount) && this.scanCount > 0)) {
      throw new TypeError(
        `RedisStore option "scanCount" must be a positive integer, got ${String(options.scanCount)}`,
      );
    }
  }

  get(sid: string, callback?: NodeCallback<StoredSession | null>): Promise<StoredSession | null> {
    return withCallback(this.read(sid), callback);
  }

  set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
    return withCallback(this.write(sid, session), callback);
  }

  touch(sid: string, session: StoredSession, callback?: NodeCallback<boolean>): Promise<boolean> {
    return withCallback(this.extend(sid, session), callback);
  }

  /** Applies one request's change to the record as it is now, atomically, in one command. */
  patch(sid: string, change: SessionChange, callback?: NodeCallback<boolean>): Promise<boolean> {
    return withCallback(this.merge(sid, change), callback);
  }

  destroy(sid: string, callback?: NodeCallback): Promise<void> {
    return withCallback(this.del(this.prefix + sid), callback);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    return withCallback(
      this.keys().then((keys) => keys.size),
      callback,
    );
  }

  ids(callback?: NodeCallback<string[]>): Promise<string[]> {
    const ids = this.keys().then((keys) => [...keys].map((key) => key.slice(this.prefix.length)));
    return withCallback(ids, callback);
  }

  /** Every live session by id; records that cannot be read are left out (and logged). */
  all(
    callback?: NodeCallback<Record<string, StoredSession>>,
  ): Promise<Record<string, StoredSession>> {
    return withCallback(this.readAll(), callback);
  }

  /** Removes every key under `prefix`, found with SCAN on every master; other keys stay. */
  clear(callback?: NodeCallback): Promise<void> {
    return withCallback(this.removeAll(), callback);
  }

  /**
   * The user's live sessions, from the user's index: each member's record read (one MGET on
   * standalone Redis, a GET each on Cluster), listed only while live and still the user's.
   */
  findByUser(user: string, callback?: NodeCallback<IndexedSession[]>): Promise<IndexedSession[]> {
    return withCallback(this.listUser(user), callback);
  }

  /** Destroys the user's live sessions but `exceptId`, as `findByUser` finds them; resolves how many. */
  destroyByUser(
    user: string,
    exceptId: string | undefined,
    callback?: NodeCallback<number>,
  ): Promise<number> {
    return withCallback(this.destroyUser(user, exceptId), callback);
  }

  private async read(sid: string): Promise<StoredSession | null> {
    const key = this.prefix + sid;
    const text = await this.command(key, ['GET', key]).catch((err: Error) => {
      // Something else than a string under the key is bad data too, not an outage.
      if (!String(err?.message).startsWith('WRONGTYPE')) throw err;
      this.codec.warn(`RedisStore: session ${redact(sid)} is not a string key, ignored`);
      return null;
    });
    return text == null ? null : this.liveRecord(sid, String(text));
  }

  /** The session `text` holds, or `null` when it is unreadable or its cookie says it expired. */
  private async liveRecord(sid: string, text: string): Promise<StoredSession | null> {
    const session = await this.codec.decode(sid, text);
    // The TTL normally gets there first; the cookie decides when clocks or writers disagree.
    return session && !isExpired(session) ? session : null;
  }

  /**
   * The records of `sids`, `null` where there is none: one MGET on standalone Redis, a GET each
   * on Cluster, where a command takes only keys of one slot.
   */
  private async readMany(sids: string[]): Promise<(StoredSession | null)[]> {
    if (this.driver.cluster || sids.length < 2) return Promise.all(sids.map((id) => this.read(id)));
    const keys = sids.map((id) => this.prefix + id);
    // MGET answers nil for a key that holds no string, where GET would fail.
    const texts = (await this.command(keys[0]!, ['MGET', ...keys])) as unknown[];
    return Promise.all(
      texts.map((text, i) => (text == null ? null : this.liveRecord(sids[i]!, String(text)))),
    );
  }

  private async write(sid: string, session: StoredSession): Promise<void> {
    const key = this.prefix + sid;
    const text = this.codec.encode(session);
    const now = Date.now();
    const px = this.pxOf(session, now);
    if (px <= 0) return this.del(key);
    // No previous user: `set` is not told it. A member it leaves behind is dropped on read.
    const reindex = this.reindexOf(sid, px, now, userOf(session), undefined);
    if (!reindex) {
      await this.command(key, ['SET', key, text, 'PX', String(px)]);
      return;
    }
    await this.writeIndexed('set', key, [text, String(px)], reindex);
  }

  /**
   * Moves the expiry and stores the new cookie with it, so that the record's `cookie.expires` and
   * the key's TTL agree: a patch of the `cookie` key alone.
   */
  private extend(sid: string, session: StoredSession): Promise<boolean> {
    return this.merge(sid, cookieOnlyChange(session));
  }

  /** Resolves `false`, having written nothing, when the session is gone: it stays gone. */
  private async merge(sid: string, change: SessionChange): Promise<boolean> {
    const key = this.prefix + sid;
    const now = Date.now();
    const px = this.pxOf(change.session, now);
    // The change itself expires the session.
    if (px <= 0) return Number(await this.command(key, ['DEL', key])) > 0;
    if (this.codec.serializer) return this.patchBySwap(sid, change, px, now);
    const reindex = this.reindexOf(sid, px, now, userAfter(change), userOf(change.base));
    const reply = await this.writeIndexed('patch', key, patchArgs(px, now, change), reindex).catch(
      (err: Error) => {
        const message = String(err?.message);
        if (!message.startsWith(`${NOT_A_SESSION} `)) throw err;
        throw notASession(sid, message.slice(NOT_A_SESSION.length + 1));
      },
    );
    return reply === 1;
  }

  /**
   * Lua cannot read a custom serializer's text, so the merge happens here and a compare-and-set
   * script writes it only if the key still holds the text the merge started from; on a conflict
   * the script answers the current text and the merge starts again from that. Here the store
   * holds both records, so the index follows the user they name, before and after.
   */
  private async patchBySwap(
    sid: string,
    change: SessionChange,
    px: number,
    now: number,
  ): Promise<boolean> {
    const key = this.prefix + sid;
    // What the key held when this request read it: remembered by get(), or asked for now.
    let seen: unknown = change.base ? this.codec.textOf(change.base) : undefined;
    let fresh = seen === undefined;
    if (fresh) seen = await this.command(key, ['GET', key]);
    return retryOnConflict('RedisStore', sid, async () => {
      if (seen == null) return false;
      const current = await this.codec.decode(sid, String(seen));
      if (!current) throw notASession(sid, 'not readable by the serializer');
      if (isExpired(current)) {
        if (fresh) return false;
        // Expired as this request read it; another request's touch may have extended it since.
        [seen, fresh] = [await this.command(key, ['GET', key]), true];
        return CONFLICT;
      }
      const merged = applyChange(current, change);
      const text = this.codec.encode(merged);
      const reindex = this.reindexOf(sid, px, now, userOf(merged), userOf(current));
      const reply = await this.writeIndexed('cas', key, [String(seen), text, String(px)], reindex);
      if (reply === 1) return true;
      [seen, fresh] = [reply === 0 ? null : reply, true];
      return CONFLICT;
    });
  }

  /**
   * How a write of session `sid` that leaves it with `user` (after `previous`) changes the user
   * index: `undefined` when it changes none.
   */
  private reindexOf(
    sid: string,
    px: number,
    now: number,
    user: string | undefined,
    previous: string | undefined,
  ): Reindex | undefined {
    const join = user === undefined ? undefined : this.indexKey(user);
    const leave = previous !== undefined && previous !== user ? this.indexKey(previous) : undefined;
    return join || leave ? { sid, join, leave, expiry: now + px, now } : undefined;
  }

  /**
   * Runs `script` (a session write answering 1 when it wrote) on `key`, with the user index
   * changed as `reindex` says: by the same script on standalone Redis, so that both change
   * together; on Cluster, where the index is in another slot, by commands of its own once the
   * session is written, so that the index never lists a session before it exists.
   */
  private async writeIndexed(
    script: 'set' | 'patch' | 'cas',
    key: string,
    args: string[],
    reindex: Reindex | undefined,
  ): Promise<unknown> {
    if (!reindex) return this.script(script, [key], args);
    const { sid, join, leave, expiry, now } = reindex;
    if (this.driver.cluster) {
      const reply = await this.script(script, [key], args);
      if (reply !== 1) return reply;
      await Promise.all([
        join && this.script('indexJoin', [join], [sid, String(expiry), String(now)]),
        leave && this.command(leave, ['ZREM', leave, sid]),
      ]);
      return reply;
    }
    // REINDEX_LUA's keys and arguments, after the script's own.
    const indexKeys = [join, leave].filter((index) => index !== undefined);
    const indexArgs = [sid, String(expiry), String(now), join ? '1' : '0'];
    return this.script(script, [key, ...indexKeys], [...args, ...indexArgs]);
  }

  private indexKey(user: string): string {
    return this.prefix + USER_INDEX + user;
  }

  private async listUser(user: string): Promise<IndexedSession[]> {
    const { index, live, dead } = await this.readIndex(user);
    await this.prune(index, dead);
    return live.map(({ id, session }) => ({ id, session }));
  }

  private async destroyUser(user: string, exceptId: string | undefined): Promise<number> {
    const { index, live, dead } = await this.readIndex(user);
    const doomed = live.filter(({ id }) => id !== exceptId);
    // Sessions first: should the prune fail, the index holds dead members, which reads drop.
    const destroyed = await this.delMany(doomed.map(({ id }) => this.prefix + id));
    await this.prune(index, [...dead, ...doomed]);
    return destroyed;
  }

  /**
   * The members of the user's index (once those past their score are trimmed) with their
   * records: `live` when the record is live and still names the user, else `dead`.
   */
  private async readIndex(user: string) {
    const index = this.indexKey(user);
    const flat = (await this.script('indexRead', [index], [String(Date.now())])) as unknown[];
    const members: IndexMember[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      members.push({ id: String(flat[i]), score: String(flat[i + 1]) });
    }
    const records = await this.readMany(members.map(({ id }) => id));
    const live: (IndexMember & IndexedSession)[] = [];
    const dead: IndexMember[] = [];
    for (const [i, member] of members.entries()) {
      const session = records[i];
      if (session && userOf(session) === user) live.push({ ...member, session });
      else dead.push(member);
    }
    return { index, live, dead };
  }

  /** Removes `members` from `index`, each only while its score is still the one read. */
  private async prune(index: string, members: IndexMember[]): Promise<void> {
    if (members.length === 0) return;
    await this.script(
      'indexPrune',
      [index],
      members.flatMap(({ id, score }) => [id, score]),
    );
  }

  /** Deletes `keys` and resolves how many there were: one DEL on standalone, one each on Cluster. */
  private async delMany(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!this.driver.cluster) return Number(await this.command(keys[0]!, ['DEL', ...keys]));
    const counts = await Promise.all(keys.map((key) => this.command(key, ['DEL', key])));
    return counts.reduce<number>((sum, count) => sum + Number(count), 0);
  }

  private async readAll(): Promise<Record<string, StoredSession>> {
    const sessions: Record<string, StoredSession> = {};
    const ids = [...(await this.keys())].map((key) => key.slice(this.prefix.length));
    const found = await Promise.all(ids.map((sid) => this.read(sid)));
    for (const [i, sid] of ids.entries()) if (found[i]) sessions[sid] = found[i];
    return sessions;
  }

  /** Every key under the prefix, the user indexes' too. */
  private async removeAll(): Promise<void> {
    this.refuseWhileDown();
    const keys = await scanKeys(this.driver, this.prefix, this.scanCount);
    // One DEL per key: a cluster refuses a multi-key DEL across slots.
    await Promise.all([...keys].map((key) => this.del(key)));
  }

  private async del(key: string): Promise<void> {
    await this.command(key, ['DEL', key]);
  }

  /**
   * Every session key under the prefix (as the client names it), by SCAN on each master; the
   * user indexes left out.
   */
  private async keys(): Promise<Set<string>> {
    this.refuseWhileDown();
    const keys = await scanKeys(this.driver, this.prefix, this.scanCount);
    const indexes = this.prefix + USER_INDEX;
    for (const key of keys) if (key.startsWith(indexes)) keys.delete(key);
    return keys;
  }

  /** Runs script `name` on `keys` (all of one slot on Cluster: it is sent to `keys[0]`'s node). */
  private async script(name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    const [lua, sha] = SCRIPTS[name];
    const [first] = keys as [string];
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(first, ['EVALSHA', sha, ...tail]);
    } catch (err) {
      // Redis forgets scripts on restart or SCRIPT FLUSH, and each cluster node keeps its own.
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return this.command(first, ['EVAL', lua, ...tail]);
    }
  }

  private command(key: string, args: string[]): Promise<unknown> {
    this.refuseWhileDown();
    return this.driver.send(key, args);
  }

  /**
   * Refuses a command while the client is not connected: in the client's offline queue it would
   * wait out the client's whole retry budget, and could still land after the caller gave up. A
   * client that has never been ready is let through, to be sent once its first connect ends.
   */
  private refuseWhileDown(): void {
    const [state, words] = this.driver.state();
    if (state === 'ready') this.seenReady = true;
    else if (state === 'down' || this.seenReady) {
      throw new Error(`RedisStore: Redis is unavailable (${words}); the command was not sent`);
    }
  }

  private pxOf(session: StoredSession, now = Date.now()): number {
    return Math.ceil(expiresAt(session, this.ttl, now) - now);
  }
}

// Its methods return Promises; an override in a subclass is called as it asks (see the gateway).
markPromiseMethods(RedisStore.prototype);

/** How one write of session `sid` changes the user index (see RedisStore's key layout). */
interface Reindex {
  readonly sid: string;
  /** The index the session joins, or has its score raised in: its user's, when it has one. */
  readonly join: string | undefined;
  /** The index it leaves: its previous user's, when that was another user. */
  readonly leave: string | undefined;
  /** When the session expires, and when it is written (ms since the epoch). */
  readonly expiry: number;
  readonly now: number;
}

/** A member of a user index as a read found it: the score is what a prune checks it against. */
interface IndexMember {
  readonly id: string;
  readonly score: string;
}

/**
 * The user a record names once `change` is applied: its new cookie's, or, when the change leaves
 * the cookie as it was, the one it had.
 */
function userAfter(change: SessionChange): string | undefined {
  const cookie = change.set.cookie;
  if (cookie === undefined) return userOf(change.base ?? change.session);
  return userOf({ cookie } as StoredSession);
}

/** Why a patch or touch was refused: the key holds something that is not a session. */
function notASession(sid: string, why: string): Error {
  return new Error(
    `RedisStore: session ${redact(sid)} is not a session (${why}); it was left as it is, unchanged`,
  );
}
