import type { SessionChange, StoredSession } from '../../lib/core/stored-session';

/** A stored session in express-session's layout, expiring `inMs` from now. */
export function storedSession(
  data: Record<string, unknown> = {},
  inMs: number | null = 3_600_000,
): StoredSession {
  return {
    ...data,
    cookie: {
      originalMaxAge: inMs,
      expires: inMs === null ? null : new Date(Date.now() + inMs).toISOString(),
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
  };
}

/** A stored session's data keys, without its cookie. */
export function dataOf(record: StoredSession | null | undefined | void): Record<string, unknown> {
  const { cookie: _cookie, ...data } = record as StoredSession;
  return data;
}

/** The change a request hands a store: `session` after it, with `set` and `unset` keys from `base`. */
export function change(
  session: StoredSession,
  set: Record<string, unknown>,
  unset: string[] = [],
  base: StoredSession | null = null,
): SessionChange {
  return { set, unset, session, base };
}

/** `record` as the core writes it when the `userId` option names `user`: `cookie.user` set. */
export function withUser(record: StoredSession, user: string): StoredSession {
  return { ...record, cookie: { ...record.cookie, user } };
}
