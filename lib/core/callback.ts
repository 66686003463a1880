/** A node-style callback, as connect and express-session stores and session methods take. */
export type NodeCallback<T = void> = (err: unknown, result?: T) => void;

/**
 * Returns `promise`, and also reports its outcome to `callback` when one is given, so one
 * method serves `await store.get(id)` and `store.get(id, (err, session) => …)` alike. With a
 * callback, a rejection goes to the callback only (no unhandled rejection).
 */
export function withCallback<T>(promise: Promise<T>, callback?: NodeCallback<T>): Promise<T> {
  if (typeof callback !== 'function') return promise;
  promise.then(
    (value) => callback(null, value),
    (err: unknown) => callback(err),
  );
  return promise.catch(() => undefined as T);
}
