import { isoTime } from './date-text';

/**
 * The shape a session takes in a store: the data's keys plus a `cookie` key, the layout
 * express-session and its stores (connect-redis, connect-pg-simple, …) use, so records move
 * between the two libraries unchanged.
 */

/** The cookie part of a stored session, as express-session's `Cookie#toJSON()` writes it. */
export interface StoredCookie {
  /** The `maxAge` the cookie was given (ms), or `null` for a browser-session cookie. */
  originalMaxAge: number | null;
  /** When the session expires: an ISO date string once serialised, `null` for none. */
  expires?: string | Date | null;
  secure?: boolean;
  httpOnly?: boolean;
  domain?: string;
  path?: string;
  sameSite?: boolean | 'lax' | 'strict' | 'none' | 'auto';
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
  /**
   * Tessera's own, as are the next two: when the session was last written or touched (ms since
   * the epoch), which `touchAfter` throttles from, `idleTimeout` counts from, and a user's list
   * shows as its last activity. Written on every write and touch (older records have it for
   * browser-session cookies only). Kept in the cookie, not beside the data, so that neither
   * Tessera nor express-session ever shows it as a data key; express-session reads past it.
   */
  touchedAt?: number;
  /** When the session was created or last regenerated (ms since the epoch): `absoluteTimeout`. */
  createdAt?: number;
  /**
   * The user the session belongs to, as the `userId` option said at its last write (always a
   * string), when the option is on: the key of the store's per-user index.
   */
  user?: string;
}

/** A session as a store keeps it. */
export interface StoredSession {
  cookie: StoredCookie;
  [key: string]: unknown;
}

/**
 * What one request changed in a session that already existed, for stores that can apply it
 * atomically (`SessionStore#patch`). Applying it to the record as it is *now* in the store,
 * rather than writing the request's whole copy back, is what keeps the change of a concurrent
 * request to another key.
 */
export interface SessionChange {
  /** Keys written by this request, with their new values (`cookie` included when it moved). */
  readonly set: Readonly<Record<string, unknown>>;
  /** Keys this request deleted. */
  readonly unset: readonly string[];
  /** The whole session as this request sees it: the stores take its expiry from its cookie. */
  readonly session: StoredSession;
  /**
   * The record exactly as `get()` returned it for this request (same object), or `null` when the
   * session is new. A store can remember, per returned object, what it needs for an optimistic
   * check (a version, say) and find it again here. The core never changes this object: it copies
   * its keys onto the session, so only nested values can have changed, and those are in `set`.
   */
  readonly base: StoredSession | null;
}

/**
 * Applies `change` to `current` (the record now in the store) and returns the merged record.
 * There is no merge without a record: a session that is gone stays gone (logout is final).
 */
export function applyChange(current: StoredSession, change: SessionChange): StoredSession {
  const merged: StoredSession = { ...current };
  for (const key of change.unset) delete merged[key];
  // A key named `__proto__` (a record another writer made, say) is defined, not assigned: it must
  // stay a key of the record rather than replace its prototype.
  for (const key of Object.keys(change.set)) {
    const value = change.set[key];
    if (key === '__proto__') {
      Object.defineProperty(merged, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else merged[key] = value;
  }
  return merged;
}

/**
 * When a stored session expires, in ms since the epoch: its cookie's `expires`, or, for a
 * browser-session cookie (no `expires`), `now + fallbackTtlMs`.
 */
export function expiresAt(session: StoredSession, fallbackTtlMs: number, now = Date.now()): number {
  const expires = session.cookie?.expires;
  if (expires) {
    const time = typeof expires === 'string' ? isoTime(expires) : expires.getTime();
    if (!Number.isNaN(time)) return time;
  }
  return now + fallbackTtlMs;
}

/** Whether a stored session's cookie says it has expired. */
export function isExpired(session: StoredSession, now = Date.now()): boolean {
  const expires = session.cookie?.expires;
  if (!expires) return false;
  const time = typeof expires === 'string' ? isoTime(expires) : expires.getTime();
  return !Number.isNaN(time) && time <= now;
}

/** One day: how long a store keeps a browser-session cookie's session when it is given no `ttl`. */
export const DEFAULT_STORE_TTL_MS = 86_400_000;

/** The user a stored session is indexed under (`cookie.user`), if any. */
export function userOf(session: StoredSession | null | undefined): string | undefined {
  const user = session?.cookie?.user;
  return typeof user === 'string' && user !== '' ? user : undefined;
}

/**
 * When a stored session was last written or touched, in ms since the epoch: its `touchedAt`,
 * or, for a record written before Tessera kept it, the moment its expiry was last set
 * (`expires - originalMaxAge`). `undefined` when the record cannot tell.
 */
export function lastActiveAt(session: StoredSession): number | undefined {
  const cookie = session.cookie;
  if (typeof cookie?.touchedAt === 'number') return cookie.touchedAt;
  const expires = cookie?.expires;
  if (expires && typeof cookie.originalMaxAge === 'number') {
    const time =
      (typeof expires === 'string' ? isoTime(expires) : new Date(expires).getTime()) -
      cookie.originalMaxAge;
    if (!Number.isNaN(time)) return time;
  }
  return undefined;
}
