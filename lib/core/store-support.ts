import { redact } from './redact';
import { DEFAULT_STORE_TTL_MS, type SessionChange, type StoredSession } from './stored-session';

// What every built-in store needs and would otherwise write for itself: the change a touch
// makes, the check of a `ttl` option, and the bounded retry of an optimistic write.

/**
 * The change a touch makes: the stored cookie (and with it the expiry) and nothing else, so a
 * touch is a patch of one key that, like every patch, never brings back a session that is gone.
 */
export function cookieOnlyChange(
  session: StoredSession,
  base: StoredSession | null = null,
): SessionChange {
  return { set: { cookie: session.cookie }, unset: [], session, base };
}

/** A store's `ttl` option (ms, for a browser-session cookie's session), checked: one day unless given. */
export function storeTtl(store: string, ttl: unknown): number {
  const value = ttl ?? DEFAULT_STORE_TTL_MS;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new TypeError(
      `${store} option "ttl" must be a positive number of ms, got ${String(ttl)}`,
    );
  }
  return value;
}

/** What one optimistic attempt answers when another write got there first. */
export const CONFLICT = Symbol('tessera:conflict');

/**
 * How many optimistic attempts in a row one write may lose before it gives up. Every lost
 * attempt means another write landed, so N concurrent writers of one session all land within N
 * attempts: this bounds a pathological loop, not ordinary concurrency.
 */
export const WRITE_ATTEMPTS = 64;

/**
 * Runs `attempt` until it answers something other than `CONFLICT`, at most `WRITE_ATTEMPTS`
 * times, then rejects with an error that names the store and the session.
 */
export async function retryOnConflict<T>(
  store: string,
  sid: string,
  attempt: () => Promise<T | typeof CONFLICT>,
): Promise<T> {
  for (let tries = 0; tries < WRITE_ATTEMPTS; tries++) {
    const outcome = await attempt();
    if (outcome !== CONFLICT) return outcome;
  }
  throw new Error(
    `${store}: the write of session ${redact(sid)} lost ${WRITE_ATTEMPTS} races in a row to concurrent writes; gave up`,
  );
}
