import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  expiresAt,
  isExpired,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { ConnectCompatibleStore } from '../stores/connect-store.base';
import type { SessionStore } from '../stores/session-store.interface';
import { redact } from '../core/redact';
import { CONFLICT, cookieOnlyChange, retryOnConflict, storeTtl } from '../core/store-support';
import { SessionCodec } from './redis.codec';
import { driverFor, scanKeys, type Driver } from './redis.driver';
import { NOT_A_SESSION, patchArgs, SCRIPTS, type ScriptName } from './redis.scripts';
import type { RedisStoreOptions } from './redis-store.options';

/**
 * A session store on Redis, for apps that run as many processes or machines: they all see the
 * same sessions. Each session is one key, `prefix` + id, holding the JSON text of the session
 * (its data plus a `cookie` key, as express-session and connect-redis store it) with Redis's own
 * TTL set from the cookie's expiry. The client is the app's own ioredis `Redis` or `Cluster`, or
 * node-redis `createClient()` / `createCluster()` (v4 or later); the store never closes it.
 *
 * One command per call: `get` is a GET, `set` a SET … PX, `destroy` a DEL, and `patch` one Lua
 * script (EVALSHA) that merges a request's changed keys into the record as it is now, so
 * concurrent requests changing different keys of one session all keep their change; `touch` is
 * that script too, changing only the stored cookie along with the TTL so the two agree. Neither
 * ever creates a key: for a session that is gone they write nothing and resolve `false`; a key
 * that holds something else than a session makes them reject and is left as it is.
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

  private async read(sid: string): Promise<StoredSession | null> {
    const key = this.prefix + sid;
    const text = await this.command(key, ['GET', key]).catch((err: Error) => {
      // Something else than a string under the key is bad data too, not an outage.
      if (!String(err?.message).startsWith('WRONGTYPE')) throw err;
      this.codec.warn(`RedisStore: session ${redact(sid)} is not a string key, ignored`);
      return null;
    });
    const session = text == null ? null : await this.codec.decode(sid, String(text));
    // The TTL normally gets there first; the cookie decides when clocks or writers disagree.
    return session && !isExpired(session) ? session : null;
  }

  private async write(sid: string, session: StoredSession): Promise<void> {
    const text = this.codec.encode(session);
    const px = this.pxOf(session);
    if (px <= 0) return this.del(this.prefix + sid);
    await this.command(this.prefix + sid, ['SET', this.prefix + sid, text, 'PX', String(px)]);
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
    const px = this.pxOf(change.session);
    // The change itself expires the session.
    if (px <= 0) return Number(await this.command(key, ['DEL', key])) > 0;
    if (this.codec.serializer) return this.patchBySwap(sid, change, px);
    const reply = await this.script('patch', key, patchArgs(px, Date.now(), change)).catch(
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
   * the script answers the current text and the merge starts again from that.
   */
  private async patchBySwap(sid: string, change: SessionChange, px: number): Promise<boolean> {
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
      const text = this.codec.encode(applyChange(current, change));
      const reply = await this.script('cas', key, [String(seen), text, String(px)]);
      if (reply === 1) return true;
      [seen, fresh] = [reply === 0 ? null : reply, true];
      return CONFLICT;
    });
  }

  private async readAll(): Promise<Record<string, StoredSession>> {
    const sessions: Record<string, StoredSession> = {};
    const ids = [...(await this.keys())].map((key) => key.slice(this.prefix.length));
    const found = await Promise.all(ids.map((sid) => this.read(sid)));
    for (const [i, sid] of ids.entries()) if (found[i]) sessions[sid] = found[i];
    return sessions;
  }

  private async removeAll(): Promise<void> {
    // One DEL per key: a cluster refuses a multi-key DEL across slots.
    await Promise.all([...(await this.keys())].map((key) => this.del(key)));
  }

  private async del(key: string): Promise<void> {
    await this.command(key, ['DEL', key]);
  }

  /** Every key under the prefix (as the client names it), by SCAN on each master. */
  private async keys(): Promise<Set<string>> {
    this.refuseWhileDown();
    return scanKeys(this.driver, this.prefix, this.scanCount);
  }

  private async script(name: ScriptName, key: string, args: string[]): Promise<unknown> {
    const [lua, sha] = SCRIPTS[name];
    try {
      return await this.command(key, ['EVALSHA', sha, '1', key, ...args]);
    } catch (err) {
      // Redis forgets scripts on restart or SCRIPT FLUSH, and each cluster node keeps its own.
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return this.command(key, ['EVAL', lua, '1', key, ...args]);
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

  private pxOf(session: StoredSession): number {
    const now = Date.now();
    return Math.ceil(expiresAt(session, this.ttl, now) - now);
  }
}

/** Why a patch or touch was refused: the key holds something that is not a session. */
function notASession(sid: string, why: string): Error {
  return new Error(
    `RedisStore: session ${redact(sid)} is not a session (${why}); it was left as it is, unchanged`,
  );
}
