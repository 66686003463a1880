import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readCookie } from '../core/cookie';
import { requestContext } from '../core/request-context';
import type { RequestSession, SessionEngine, VerifiedCookie } from '../core/session-engine';
import { SessionUnavailableError } from '../exceptions/session-store.error';
import { holdResponse, replyError } from './response-hold';

/** What the middleware adds to a request. */
export interface SessionRequestFields {
  session?: unknown;
  sessionID?: string;
}

type Next = (err?: unknown) => void;

/** The request's sessions, for `SessionService` and the decorator. */
const REQUEST_SESSION = Symbol('tessera:request-session');

/**
 * The session middleware on raw Node objects, so it serves Express and Fastify alike:
 * ignore list, cookie, load, `req.session` / `req.sessionID`, the request context, and the
 * commit before the response goes out.
 *
 * A request that carries no cookie gets a lazy `req.session`: nothing is built, hashed or
 * hooked until something reads it.
 */
export function createSessionHandler(engine: SessionEngine) {
  const { options, logger } = engine;
  const secureFor = (req: IncomingMessage): boolean =>
    options.cookie.secure === 'auto' ? isSecure(req, options.proxy) : options.cookie.secure;

  const attach = (req: IncomingMessage, res: ServerResponse, request: RequestSession): void => {
    Object.defineProperty(req, REQUEST_SESSION, { value: request, configurable: true });
    Object.defineProperty(req, 'session', {
      value: request.session,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    Object.defineProperty(req, 'sessionID', {
      get: () => request.session.id,
      set(value) {
        Object.defineProperty(req, 'sessionID', {
          value,
          writable: true,
          configurable: true,
          enumerable: true,
        });
      },
      configurable: true,
      enumerable: true,
    });
    holdResponse(
      res,
      () => request.commit(),
      (err) => {
        const status = (err as { statusCode?: number }).statusCode ?? 500;
        logger.error(
          `Could not commit the session: ${(err as Error).message}`,
          (err as Error).stack,
        );
        replyError(res, status, status === 503 ? 'Service Unavailable' : 'Internal Server Error');
      },
    );
  };

  const attachLazily = (
    req: IncomingMessage,
    res: ServerResponse,
    cookie?: VerifiedCookie,
  ): void => {
    const create = () => {
      const request = engine.fresh(req, secureFor(req), cookie);
      attach(req, res, request);
      return request;
    };
    Object.defineProperty(req, 'session', {
      get: () => create().session,
      set(value) {
        create();
        (req as SessionRequestFields).session = value;
      },
      configurable: true,
      enumerable: true,
    });
    Object.defineProperty(req, 'sessionID', {
      get: () => create().session.id,
      configurable: true,
      enumerable: true,
    });
    Object.defineProperty(req, REQUEST_SESSION, { get: create, configurable: true });
  };

  const attachUnavailable = (req: IncomingMessage, cause: unknown): void => {
    const fail = (): never => {
      throw new SessionUnavailableError('get', cause, 'The session store is unavailable');
    };
    Object.defineProperty(req, 'session', { get: fail, configurable: true, enumerable: true });
    Object.defineProperty(req, 'sessionID', { get: fail, configurable: true, enumerable: true });
    Object.defineProperty(req, REQUEST_SESSION, { get: fail, configurable: true });
  };

  return function sessionMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // Already done for this request (the middleware mounted twice): do nothing twice.
    if (Object.prototype.hasOwnProperty.call(req, REQUEST_SESSION)) return next();
    if (engine.isIgnored(pathnameOf(req))) return next();
    const cookie = engine.verify(readCookie(req.headers.cookie, options.name));
    if (!cookie) {
      attachLazily(req, res);
      requestContext.run(req, next);
      return;
    }
    engine.open(req, secureFor(req), cookie).then(
      (request) => {
        attach(req, res, request);
        requestContext.run(req, next);
      },
      (err: Error) => {
        logger.error(`Could not load the session: ${err.message}`, err.stack);
        attachUnavailable(req, err);
        requestContext.run(req, next);
      },
    );
  };
}

/** The request's sessions, if the middleware ran for it (throws when its store was down). */
export function requestSessionOf(req: unknown): RequestSession | undefined {
  return (req as Record<symbol, RequestSession | undefined> | undefined)?.[REQUEST_SESSION];
}

function pathnameOf(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Whether the request came over HTTPS, for `secure: 'auto'`. */
function isSecure(req: IncomingMessage, proxy: boolean | undefined): boolean {
  if ((req.socket as TLSSocket | undefined)?.encrypted) return true;
  if (proxy === undefined) {
    // Express knows the app's `trust proxy` setting; elsewhere, no proxy is trusted by default.
    const protocol = (req as { protocol?: unknown }).protocol;
    return protocol === 'https';
  }
  if (!proxy) return false;
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)
    ?.split(',')[0]
    ?.trim()
    .toLowerCase();
  return first === 'https';
}
