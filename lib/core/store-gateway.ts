import { Deadlines } from './deadlines';
import { SessionStoreError } from './errors';
import { cookieOnlyChange } from './store-support';
import type { IndexedSession, SessionStore } from './session-store';
import { applyChange, isExpired, type SessionChange, type StoredSession } from './stored-session';

/** Marks a store whose methods all return Promises, so the gateway passes them no callback. */
export const PROMISE_STORE = Symbol.for('tessera:promise-store');
/**
 * Marks one method as Promise-native. A store class marks its own methods (`markPromiseMethods`):
 * a subclass that overrides one with a callback-style function leaves the override unmarked, so
 * that the gateway passes it a callback, and its answer is heard.
 */
const PROMISE_METHOD = Symbol.for('tessera:promise-method');
/**
 * Marks one Promise-native method as answering before it returns: the Promise it returns is
 * already settled (MemoryStore's, which does no I/O). Such a call cannot outlive a deadline, so
 * the gateway arms none for it. Marked per method, as `PROMISE_METHOD` is, so that a subclass's
 * override (which may do I/O) gets the deadline again.
 */
const SETTLED_METHOD = Symbol.for('tessera:settled-method');

/** The store methods the gateway calls. */
export const STORE_METHODS = [
  'get',
  'set',
  'destroy',
  'touch',
  'patch',
  'findByUser',
  'destroyByUser',
] as const;

/** Marks `names` on `prototype` as methods that return Promises and need no callback. */
export function markPromiseMethods(
  prototype: object,
  names: readonly string[] = STORE_METHODS,
): void {
  for (const name of names) {
    const method = (prototype as Record<string, unknown>)[name];
    if (typeof method === 'function')
      Object.defineProperty(method, PROMISE_METHOD, { value: true });
  }
}

/**
 * Marks `names` on `prototype` as Promise-native methods whose Promise is settled when they
 * return (see `SETTLED_METHOD`): for a store that does no I/O at all.
 */
export function markSettledMethods(
  prototype: object,
  names: readonly string[] = STORE_METHODS,
): void {
  markPromiseMethods(prototype, names);
  for (const name of names) {
    const method = (prototype as Record<string, unknown>)[name];
    if (typeof method === 'function')
      Object.defineProperty(method, SETTLED_METHOD, { value: true });
  }
}

type StoreMethod = (typeof STORE_METHODS)[number];
type MarkedMethod = ((...a: unknown[]) => unknown) & {
  [PROMISE_METHOD]?: boolean;
  [SETTLED_METHOD]?: boolean;
};

/**
 * The core's only way to a store. Calls it in whichever style it speaks (a returned Promise or
 * a node-style callback, as connect stores do), bounds every call by `storeTimeout`, and turns
 * every failure into a `SessionStoreError`. Fills in what an older store lacks: `patch` as
 * re-read + merge + `set`, `touch` as a `patch` of the cookie alone. `patch` and `touch` resolve
 * `false` when the session was no longer stored, and then wrote nothing.
 */
export class StoreGateway {
  /** The store says its methods return Promises (each marked one needs no callback). */
  private readonly promiseStore: boolean;
  /** Every pending call's `storeTimeout`, on one timer. */
  private readonly deadlines: Deadlines;

  constructor(
    readonly store: SessionStore,
    private readonly timeoutMs: number,
  ) {
    this.promiseStore = (store as { [PROMISE_STORE]?: boolean })[PROMISE_STORE] === true;
    this.deadlines = new Deadlines(timeoutMs);
  }

  get(sid: string): Promise<StoredSession | null> {
    return this.call<StoredSession | null>('get', [sid], orNull);
  }

  set(sid: string, session: StoredSession): Promise<void> {
    return this.call('set', [sid, session]);
  }

  destroy(sid: string): Promise<void> {
    return this.call('destroy', [sid]);
  }

  patch(sid: string, change: SessionChange): Promise<boolean> {
    if (typeof this.store.patch === 'function')
      return this.call<boolean>('patch', [sid, change], applied);
    return this.mergeAndSet(sid, change);
  }

  /** `patch` for a store without one: re-read, merge, `set`. */
  private async mergeAndSet(sid: string, change: SessionChange): Promise<boolean> {
    // Narrows the window for a lost update to the time between these two calls.
    const current = await this.get(sid);
    // A session destroyed or expired since the request loaded it stays gone.
    if (!current || isExpired(current)) return false;
    await this.set(sid, applyChange(current, change));
    return true;
  }

  /**
   * Extends a session's expiry. A Tessera store's `touch` (one that also has `patch`) stores the
   * new cookie with it, so the record's `cookie.expires` and the store's expiry agree; an older
   * store's `touch` may leave the record's cookie as it was, so the cookie is patched instead.
   */
  touch(sid: string, session: StoredSession, base: StoredSession): Promise<boolean> {
    if (typeof this.store.touch === 'function' && typeof this.store.patch === 'function')
      return this.call<boolean>('touch', [sid, session], applied);
    return this.patch(sid, cookieOnlyChange(session, base));
  }

  /** The user's live sessions, from the store's per-user index. */
  findByUser(user: string): Promise<IndexedSession[]> {
    return this.call<IndexedSession[]>('findByUser', [user]);
  }

  /** Destroys the user's sessions but `exceptId`; resolves how many. */
  destroyByUser(user: string, exceptId: string | undefined): Promise<number> {
    return this.call<number>('destroyByUser', [user, exceptId]);
  }

  /**
   * Calls the store's `method`, bounded by the deadline, with every failure a
   * `SessionStoreError`; `answer` turns what the store resolved into what the caller gets.
   */
  private call<T = void>(
    method: StoreMethod,
    args: unknown[],
    answer?: (value: never) => T,
  ): Promise<T> {
    const fn = this.store[method] as MarkedMethod;
    if (this.promiseStore && fn[SETTLED_METHOD] === true) {
      // Already answered: no deadline to arm, one Promise step.
      try {
        return (fn.apply(this.store, args) as Promise<never>).then(answer, FAILED[method]);
      } catch (err) {
        return Promise.reject(storeError(method, err));
      }
    }
    const called = this.callWithDeadline<T>(method, fn, args);
    return answer ? called.then(answer as (value: T) => T) : called;
  }

  private callWithDeadline<T>(method: StoreMethod, fn: MarkedMethod, args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = this.deadlines.start(() =>
        reject(
          new SessionStoreError(
            method,
            undefined,
            `Session store ${method}() did not answer within ${this.timeoutMs} ms`,
          ),
        ),
      );
      const settle = (err: unknown, value?: T) => {
        // Only the first answer counts, and none after the deadline.
        if (!this.deadlines.settle(deadline)) return;
        if (err) reject(storeError(method, err));
        else resolve(value as T);
      };
      try {
        // An unmarked method (a callback-style override, say) is given a callback, and its
        // returned Promise, if any, is heard too: whichever settles first counts.
        const returned =
          this.promiseStore && fn[PROMISE_METHOD] === true
            ? fn.apply(this.store, args)
            : fn.call(this.store, ...args, settle);
        if (returned && typeof (returned as Promise<T>).then === 'function') {
          (returned as Promise<T>).then(
            (value) => settle(null, value),
            (err: unknown) => settle(err ?? new Error('rejected')),
          );
        }
      } catch (err) {
        settle(err);
      }
    });
  }
}

/** A store's failure as the gateway reports it. */
function storeError(method: StoreMethod, err: unknown): SessionStoreError {
  return err instanceof SessionStoreError ? err : new SessionStoreError(method, err);
}

/** Each method's rejection handler for answered calls, made once rather than per call. */
const FAILED = Object.fromEntries(
  STORE_METHODS.map((method) => [
    method,
    (err: unknown): never => {
      throw storeError(method, err ?? new Error('rejected'));
    },
  ]),
) as Record<StoreMethod, (err: unknown) => never>;

/** What `patch` and `touch` resolve: `undefined` is a store that does not say, and it applied. */
function applied(answer: boolean | void): boolean {
  return answer !== false;
}

function orNull<T>(value: T | null | undefined): T | null {
  return value ?? null;
}
