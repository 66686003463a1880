import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readCookie } from '../core/cookie';
import { runInRequest } from '../core/request-context';
import type { RequestSession, SessionEngine } from '../core/session-engine';
import { SessionUnavailableError } from '../exceptions/session-store.error';
import { holdFor, installHold } from './response-hold';

type Next = (err?: unknown) => void;

/** The request's sessions, once made. */
const REQUEST_SESSION = Symbol('tessera:request-session');
/** How to make them on first read (a request without a cookie), or why they cannot be made. */
const PENDING = Symbol('tessera:pending');

/** What every request of one app shares: made once, so a request allocates nothing for it. */
interface HandlerContext {
  readonly engine: SessionEngine;
  secureFor(req: IncomingMessage): boolean;
}

interface Pending {
  readonly context: HandlerContext;
  readonly res: ServerResponse;
  /** The store failure that kept the session from loading. */
  readonly failure?: unknown;
}

type SessionRequest = IncomingMessage & {
  [REQUEST_SESSION]?: RequestSession;
  [PENDING]?: Pending;
};

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
  const context: HandlerContext = {
    engine,
    secureFor: (req) =>
      options.cookie.secure === 'auto' ? isSecure(req, options.proxy) : options.cookie.secure,
  };

  return function sessionMiddleware(raw: IncomingMessage, res: ServerResponse, next: Next): void {
    const req = raw as SessionRequest;
    // Already done for this request (the middleware mounted twice): do nothing twice.
    if (req[REQUEST_SESSION] !== undefined || req[PENDING] !== undefined) return next();
    if (engine.isIgnored(pathnameOf(req))) return next();
    // Before anything can look up `res.end`: the session may first be read in its arguments.
    installHold(res, logger);
    const cookie = engine.verify(readCookie(req.headers.cookie, options.name));
    if (!cookie) {
      req[PENDING] = { context, res };
      Object.defineProperty(req, 'session', LAZY_SESSION);
      Object.defineProperty(req, 'sessionID', SESSION_ID);
      runInRequest(req, next);
      return;
    }
    engine.open(req, context.secureFor(req), cookie).then(
      (request) => {
        attach(req, res, request);
        runInRequest(req, next);
      },
      (err: Error) => {
        logger.error(`Could not load the session: ${err.message}`, err.stack);
        req[PENDING] = { context, res, failure: err };
        Object.defineProperty(req, 'session', LAZY_SESSION);
        Object.defineProperty(req, 'sessionID', SESSION_ID);
        runInRequest(req, next);
      },
    );
  };
}

// The accessors are the same functions for every request, so V8 gives every request object the
// same hidden class: per-request closures here would make a new one each time.
const LAZY_SESSION: PropertyDescriptor = {
  get(this: SessionRequest) {
    return materialize(this).session;
  },
  set(this: SessionRequest, value: unknown) {
    materialize(this);
    defineValue(this, 'session', value);
  },
  configurable: true,
  enumerable: true,
};

const SESSION_ID: PropertyDescriptor = {
  get(this: SessionRequest) {
    return (this[REQUEST_SESSION] ?? materialize(this)).session.id;
  },
  set(this: SessionRequest, value: unknown) {
    defineValue(this, 'sessionID', value);
  },
  configurable: true,
  enumerable: true,
};

/** Replaces an accessor with a plain property, as an assignment to an ordinary field behaves. */
function defineValue(req: SessionRequest, name: 'session' | 'sessionID', value: unknown): void {
  Object.defineProperty(req, name, { value, writable: true, configurable: true, enumerable: true });
}

/** Makes a lazy request's sessions on first read. */
function materialize(req: SessionRequest): RequestSession {
  const done = req[REQUEST_SESSION];
  if (done) return done;
  const pending = req[PENDING]!;
  if (pending.failure !== undefined) {
    throw new SessionUnavailableError('get', pending.failure, 'The session store is unavailable');
  }
  const request = pending.context.engine.fresh(req, pending.context.secureFor(req));
  attach(req, pending.res, request);
  return request;
}

/** Puts a request's sessions on it, and holds its response until they are committed. */
function attach(req: SessionRequest, res: ServerResponse, request: RequestSession): void {
  req[REQUEST_SESSION] = request;
  defineValue(req, 'session', request.session);
  Object.defineProperty(req, 'sessionID', SESSION_ID);
  holdFor(res, request);
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
