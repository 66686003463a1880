import { EventEmitter } from 'node:events';
import { PROMISE_STORE } from '../core/store-gateway';

interface ExpressSessionStore {
  prototype: {
    createSession(this: unknown, req: unknown, session: unknown): unknown;
    regenerate(this: unknown, req: unknown, callback: (err?: unknown) => void): void;
    load(this: unknown, sid: string, callback: (err: unknown, session?: unknown) => void): void;
  };
}

/**
 * What the built-in stores share so that each can also be handed to express-session as is:
 * an EventEmitter (express-session listens for `connect` / `disconnect`) with express-session's
 * `Store` helpers. Those helpers build express-session's own `Session` and `Cookie` objects, so
 * they are borrowed from express-session itself, loaded only when express-session calls them:
 * an app that does not use it never loads it.
 */
export abstract class ConnectCompatibleStore extends EventEmitter {
  /** Tells Tessera's core that every method returns a Promise: it need not pass a callback. */
  readonly [PROMISE_STORE] = true;

  /** For express-session: builds its session object from a stored record. */
  createSession(req: unknown, session: unknown): unknown {
    return expressSessionStore().prototype.createSession.call(this, req, session);
  }

  /** For express-session: destroys the request's session and makes a new one. */
  regenerate(req: unknown, callback: (err?: unknown) => void): void {
    expressSessionStore().prototype.regenerate.call(this, req, callback);
  }

  /** For express-session: loads a session as its own object. */
  load(sid: string, callback: (err: unknown, session?: unknown) => void): void {
    expressSessionStore().prototype.load.call(this, sid, callback);
  }
}

function expressSessionStore(): ExpressSessionStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('express-session') as { Store: ExpressSessionStore }).Store;
}
