import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';

/**
 * The request being served, for code that has no handle on it (`SessionService` without a
 * session argument). Lives for the rest of the middleware chain and everything it awaits.
 *
 * The context holds only a weak reference: every timer or socket a request's code creates keeps
 * its context alive (a Redis client's per-command timeout timer, say), and a strong one would
 * keep the whole request, response and session alive with it, long after the response went out.
 */
const storage = new AsyncLocalStorage<WeakRef<IncomingMessage>>();

/** Runs `fn` with `req` as the current request. */
export function runInRequest<T>(req: IncomingMessage, fn: () => T): T {
  return storage.run(new WeakRef(req), fn);
}

/** The request being served, if any. */
export function currentRequest(): IncomingMessage | undefined {
  return storage.getStore()?.deref();
}
