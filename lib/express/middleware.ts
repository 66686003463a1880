import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveSessionOptions } from '../core/options';
import type { SessionStore } from '../core/session-store';
import { SessionEngine, type SessionLogger } from '../core/session-engine';
import { followSession, isAttached, isHttps } from '../http/attach';
import { createSessionHandler, pathnameOf } from '../http/session.handler';
import { dropInSettings, type SessionOptions } from './options';

/** A Connect / Express middleware: what `session()` returns. */
export type SessionMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

type DropInRequest = IncomingMessage & { session?: unknown; sessionStore?: SessionStore };

/** No Nest here: the log is the console's, each line marked as Tessera's. */
const consoleLogger: SessionLogger = {
  error: (message, stack) =>
    console.error(`[@tessera/session] ${message}`, ...(stack ? [stack] : [])),
  warn: (message) => console.warn(`[@tessera/session] ${message}`),
};

/**
 * express-session's `session(options)` on Tessera's core: its options, defaults and request
 * behaviour, with Tessera's per-key writes, store-failure handling and checks. Throws a
 * `TypeError` that names the option when one is invalid.
 */
export function createSessionMiddleware(given: SessionOptions): SessionMiddleware {
  const settings = dropInSettings(given);
  const options = resolveSessionOptions(settings.options);
  const engine = new SessionEngine(options, consoleLogger, followSession, {
    unset: settings.unset,
    isHttps: (req) => isHttps(req, options.proxy),
    enumerableCookie: true,
    newObjectOnRegenerate: true,
    saveRegenerated: true,
    quietResave: true,
    cookieFor: settings.cookieFor,
    reportUnawaited: true,
  });
  // No request context: SessionModule's middleware enters it, when the app also has that.
  const handler = createSessionHandler(engine, false);
  const { store } = options;
  return function session(req: DropInRequest, res, next) {
    // A session that an earlier middleware put on the request is kept, as express-session does.
    if (isAttached(req) || req.session) return next();
    let path: string;
    try {
      path = engine.cookieOptionsFor(req).path;
    } catch (err) {
      // The `cookie` function gave options that are not valid for this request.
      return next(err);
    }
    // The browser sends the cookie only within its path: outside it, there is no session.
    if (!withinPath(pathnameOf(req), path)) return next();
    req.sessionStore = store;
    handler(req, res, next);
  };
}

/**
 * Whether a request path is within a cookie's `Path` as browsers match it (RFC 6265, 5.1.4): the
 * path itself, or below it. express-session compares the strings' start only, so that `/app`
 * also covered `/application`, which the browser never sends the cookie to: there it made a new
 * session whose cookie replaced the one the browser had for `/app`.
 */
export function withinPath(pathname: string, cookiePath: string): boolean {
  if (!pathname.startsWith(cookiePath)) return false;
  return (
    pathname.length === cookiePath.length ||
    cookiePath.endsWith('/') ||
    pathname[cookiePath.length] === '/'
  );
}
