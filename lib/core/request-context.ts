import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';

/**
 * The request being served, for code that has no handle on it (`SessionService` without a
 * session argument). Lives for the rest of the middleware chain and everything it awaits.
 */
export const requestContext = new AsyncLocalStorage<IncomingMessage>();
