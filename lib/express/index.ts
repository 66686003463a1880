/**
 * @tessera/session/express: express-session's `session(options)` on Tessera's core, for
 * `app.use()` in a Nest `main.ts` or any Express or Connect app, with the one line that imports
 * it changed. Loads no Nest and no express-session.
 *
 * The module is the function itself, as express-session's is, so each way of importing it works:
 *
 * ```ts
 * import * as session from '@tessera/session/express'; // Nest's documentation, express-session's
 * import session from '@tessera/session/express';
 * import { session, Store, MemoryStore, Cookie, Session } from '@tessera/session/express';
 * const session = require('@tessera/session/express');
 * ```
 */
import { Cookie as CookieClass, type CookieData, type CookieOptions } from './cookie';
import { createSessionMiddleware, type SessionMiddleware } from './middleware';
import type { ConnectStore, SessionOptions } from './options';
import { Session as SessionClass, type SessionRequest } from './session';
import { Store as StoreClass, type GetCallback, type StoreCallback } from './store';
import { MemoryStore as MemoryStoreClass, type MemoryStoreOptions } from '../stores/memory.store';

/**
 * The session middleware, as express-session's `session(options)`: its options and defaults
 * (`resave` and `saveUninitialized` default to `true`, with its deprecation warnings; the cookie
 * to `{ path: '/', httpOnly: true, secure: false, maxAge: null }`), its `req.session`,
 * `req.sessionID` and `req.sessionStore`. On Tessera's core: a session is written key by key,
 * a store failure answers 503, every option is checked here.
 *
 * @publicApi
 * @example
 * ```ts
 * app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * ```
 */
function expressSession(options: SessionOptions): SessionMiddleware {
  return createSessionMiddleware(options);
}

// The function and its namespace are one: the types of what the module exports beside it.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace expressSession {
  export {
    expressSession as session,
    StoreClass as Store,
    MemoryStoreClass as MemoryStore,
    CookieClass as Cookie,
    SessionClass as Session,
  };
  export type {
    ConnectStore,
    CookieData,
    CookieOptions,
    GetCallback,
    MemoryStoreOptions,
    SessionMiddleware,
    SessionOptions,
    SessionRequest,
    StoreCallback,
  };
}

// The names, where Node's ES-module loader looks for a CommonJS module's (it reads this file's
// text for `exports.<name> =`), and, copied onto the function, where require() finds them.
exports.session = expressSession;
exports.default = expressSession;
exports.Store = StoreClass;
exports.MemoryStore = MemoryStoreClass;
exports.Cookie = CookieClass;
exports.Session = SessionClass;
Object.assign(expressSession, exports);

export = expressSession;
