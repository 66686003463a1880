import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInRequest } from '../core/request-context';
import type { SessionEngine } from '../core/session-engine';
import { attachLazily, attachSession, isAttached, secureFor } from './attach';
import { installHold } from './response-hold';

type Next = (err?: unknown) => void;

/**
 * The session middleware on raw Node objects, so it serves Express and Fastify alike:
 * ignore list, cookie, load, `req.session` / `req.sessionID`, the request context, and the
 * commit before the response goes out.
 *
 * A request that carries no cookie gets a lazy `req.session`: nothing is built, hashed or
 * hooked until something reads it.
 */
export function createSessionHandler(engine: SessionEngine, requestContext = true) {
  const { logger } = engine;
  // The rest of the chain runs in the request context only when something can read it.
  const proceed = requestContext
    ? (req: IncomingMessage, next: Next) => runInRequest(req, next)
    : (_req: IncomingMessage, next: Next) => next();
  return function sessionMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // Already done for this request (the middleware mounted twice, or the express-session
    // drop-in ran first): the session is left alone, but the rest of the request still runs in
    // the request context when this one would have entered it, so SessionService finds it.
    if (isAttached(req)) return proceed(req, next);
    if (engine.isIgnored(pathnameOf(req))) return next();
    // Before anything can look up `res.end`: the session may first be read in its arguments.
    installHold(res, logger);
    const cookie = engine.verify(req);
    if (!cookie) {
      attachLazily(req, engine, res);
      proceed(req, next);
      return;
    }
    engine
      .load(req, secureFor(req, engine.options, engine.cookieOptionsFor(req)), cookie)
      .then(
        (request) => {
          attachSession(req, request, res);
          proceed(req, next);
        },
        (err: Error) => {
          logger.error(`Could not load the session: ${err.message}`, err.stack);
          attachLazily(req, engine, res, err);
          proceed(req, next);
        },
      )
      // What runs after the middleware (next()) throwing synchronously must not become an
      // unhandled rejection of ours: that request fails, the process goes on.
      .catch((err: unknown) => {
        logger.error(`The request failed after its session was loaded: ${String(err)}`);
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy();
      });
  };
}

/** The request's path, query excluded: the whole of it (`originalUrl`) inside a mounted app too. */
export function pathnameOf(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
