import { createHmac, timingSafeEqual } from 'node:crypto';
import { RESERVED_KEYS, type SessionObject } from './session';
import type { SessionEngine } from './session-engine';
import type { IndexedSession } from './session-store';
import { expiresAt, isExpired, lastActiveAt, userOf, type StoredSession } from './stored-session';

/**
 * One of a user's sessions, as `SessionService.findByUser()` lists it: what a "where you are
 * signed in" page shows, and never the session id (a bearer secret).
 * @publicApi
 */
export interface UserSession {
  /**
   * An opaque, stable name for the session, safe to render in a page and to post back (43
   * URL-safe characters). It is an HMAC of the id: it cannot be turned back into the id, nor
   * used as a cookie.
   */
  readonly handle: string;
  /** The session of the request being served. */
  readonly current: boolean;
  /** When the session was created or last regenerated. */
  readonly createdAt: Date;
  /** When it was last written or touched: accurate to `touchAfter`. */
  readonly lastActiveAt: Date;
  /** When it expires, or `null` for a browser-session cookie's session. */
  readonly expiresAt: Date | null;
  /** The session's stored data (its keys, without the cookie), frozen. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** What a handle is derived with, so that a handle key is never a cookie-signing key. */
const HANDLE_CONTEXT = 'tessera:session-handle';
/** The shape of a handle: base64url of an HMAC-SHA256. Anything else is no handle of ours. */
const HANDLE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A user's sessions, through the store's per-user index: list them, end them all, end one by its
 * handle. Handles are computed, never stored: an HMAC of the id under a key derived from the
 * first secret. After the secrets rotate, listing gives new handles, and a handle rendered
 * before the rotation is still accepted while its secret is in the list.
 */
export class UserSessions {
  /** One handle key per secret, in the secrets' order; derived on first use. */
  private keys: Buffer[] | undefined;

  constructor(private readonly engine: SessionEngine) {}

  /** The user's live sessions, newest activity first; `currentId` marks the request's own. */
  async find(user: unknown, method: string, currentId?: string): Promise<UserSession[]> {
    const key = this.indexKey(user, method);
    const now = Date.now();
    const listed: UserSession[] = [];
    for (const { id, session } of await this.live(key, now)) {
      listed.push({
        handle: this.handleOf(id),
        current: id === currentId,
        createdAt: new Date(session.cookie.createdAt ?? lastActiveAt(session) ?? now),
        lastActiveAt: new Date(lastActiveAt(session) ?? now),
        expiresAt: session.cookie.expires ? new Date(expiresAt(session, 0)) : null,
        data: dataCopy(session),
      });
    }
    return listed.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
  }

  /** Ends every session of the user but `exceptId`; resolves how many (that were live). */
  async destroyAll(user: unknown, method: string, exceptId: string | undefined): Promise<number> {
    const key = this.indexKey(user, method);
    const { idleTimeout, absoluteTimeout } = this.engine.options;
    // The store cannot tell a session over its timeout from a live one: those are ended first,
    // uncounted, so that the count agrees with what a listing showed.
    if (idleTimeout !== undefined || absoluteTimeout !== undefined)
      await this.live(key, Date.now());
    return this.engine.gateway.destroyByUser(key, exceptId);
  }

  /**
   * Ends the user's session whose handle is `handle`, and resolves its id; `undefined` when the
   * user has none with that handle (another user's, a forged one, one already ended).
   */
  async destroyByHandle(
    user: unknown,
    handle: unknown,
    method: string,
  ): Promise<string | undefined> {
    const key = this.indexKey(user, method);
    if (typeof handle !== 'string' || !HANDLE_SHAPE.test(handle)) return undefined;
    const given = Buffer.from(handle);
    for (const { id } of await this.live(key, Date.now())) {
      if (this.handlesOf(id).some((mine) => timingSafeEqual(Buffer.from(mine), given))) {
        await this.engine.gateway.destroy(id);
        return id;
      }
    }
    return undefined;
  }

  /**
   * The user the `userId` option names for a session as it is now, as the index keys it (a
   * string), or `undefined`: nobody signed in, or no `userId` option.
   */
  userOf(session: SessionObject): string | undefined {
    const userId = this.engine.options.userId;
    if (!userId) return undefined;
    const user = userId(session as never);
    return user === null || user === undefined || user === '' ? undefined : String(user);
  }

  /** The session's handle, under the first secret. */
  handleOf(id: string): string {
    return createHmac('sha256', this.handleKeys()[0]!).update(id).digest('base64url');
  }

  /** The user index's key for a user id (`userId` gives strings and numbers). */
  indexKey(user: unknown, method: string): string {
    if (!this.engine.options.userId) {
      throw new TypeError(
        `SessionService.${method}() needs the per-user index: set the session option "userId"`,
      );
    }
    if (!((typeof user === 'string' && user !== '') || typeof user === 'number'))
      throw new TypeError(`SessionService.${method}() takes a user id (a string or a number)`);
    return String(user);
  }

  /**
   * The user's sessions that are live: what the store lists, checked again here (a store of
   * someone else's making may list what it should not), with the ones over a timeout ended.
   */
  private async live(user: string, now: number): Promise<IndexedSession[]> {
    const { engine } = this;
    const found = await engine.gateway.findByUser(user);
    const live: IndexedSession[] = [];
    for (const entry of found) {
      const { session } = entry;
      if (!isRecord(session) || userOf(session) !== user || isExpired(session, now)) continue;
      if (engine.overOf(session, now) !== undefined) {
        await engine.gateway.destroy(entry.id);
        continue;
      }
      live.push(entry);
    }
    return live;
  }

  /** The session's handle under every secret: one rendered before a rotation still matches. */
  private handlesOf(id: string): string[] {
    return this.handleKeys().map((key) => createHmac('sha256', key).update(id).digest('base64url'));
  }

  private handleKeys(): Buffer[] {
    return (this.keys ??= this.engine.options.secrets.map((secret) =>
      createHmac('sha256', secret).update(HANDLE_CONTEXT).digest(),
    ));
  }
}

function isRecord(session: unknown): session is StoredSession {
  const cookie = (session as StoredSession | null)?.cookie;
  return (
    typeof session === 'object' && session !== null && typeof cookie === 'object' && cookie !== null
  );
}

/** The record's data keys, without the cookie and Tessera's own keys, frozen. */
function dataCopy(session: StoredSession): Readonly<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(session)) {
    if (RESERVED_KEYS.has(key)) continue;
    Object.defineProperty(data, key, { value: session[key], enumerable: true });
  }
  return Object.freeze(data);
}
