import { IncomingMessage, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SessionUnavailableError } from '../core/errors';
import type { ResolvedCookieOptions, ResolvedSessionOptions } from '../core/options';
import type { RequestSession, SessionAttached, SessionEngine } from '../core/session-engine';
import { holdFor } from './response-hold';

/** The request's sessions, once made. */
const REQUEST_SESSION = Symbol('tessera:request-session');
/** How to make them on first read (a request without a cookie), or why they cannot be made. */
const PENDING = Symbol('tessera:pending');

interface Pending {
  readonly engine: SessionEngine;
  /** The response to hold once the session exists; none for a socket's handshake. */
  readonly res: ServerResponse | undefined;
  /** The store failure that kept the session from loading. */
  readonly failure?: unknown;
}

type SessionRequest = IncomingMessage & {
  [REQUEST_SESSION]?: RequestSession;
  [PENDING]?: Pending;
};

/** Whether the session glue has already been through this request (mounted twice, say). */
export function isAttached(req: IncomingMessage): boolean {
  const request = req as SessionRequest;
  return request[REQUEST_SESSION] !== undefined || request[PENDING] !== undefined;
}

/**
 * Puts a request's loaded session on it as `req.session` / `req.sessionID`, the one way HTTP
 * and WebSocket handshakes both do it; with `res`, the response is held until it is committed.
 */
export function attachSession(
  req: IncomingMessage,
  request: RequestSession,
  res?: ServerResponse,
): void {
  (req as SessionRequest)[REQUEST_SESSION] = request;
  // A plain assignment makes the same own property as a definition, at a fraction of its cost
  // on Express's requests; only the lazy accessor (a request attached lazily first) is in the way.
  if (Object.hasOwn(req, 'session')) defineValue(req, 'session', request.session);
  else (req as { session?: unknown }).session = request.session;
  defineSessionId(req);
  if (res) holdFor(res, request);
}

/**
 * A lazy `req.session` for a request without a usable cookie, or whose store failed: nothing is
 * built, hashed or hooked until something reads it; a read after a store failure throws
 * `SessionUnavailableError`.
 */
export function attachLazily(
  req: IncomingMessage,
  engine: SessionEngine,
  res: ServerResponse | undefined,
  failure?: unknown,
): void {
  (req as SessionRequest)[PENDING] = { engine, res, failure };
  Object.defineProperty(req, 'session', LAZY_SESSION);
  defineSessionId(req);
  // saveUninitialized saves every new session, read or not: there is nothing to be lazy about.
  if (engine.options.saveUninitialized && failure === undefined) materialize(req as SessionRequest);
}

/** The engine's `attached` hook: `req.session` follows regenerate() and destroy(). */
export const followSession: SessionAttached = (req, session) =>
  defineValue(req, 'session', session);

/**
 * Whether the request's cookie is `Secure`: `cookie.secure`, or for `'auto'` whether the request
 * came over HTTPS. `cookie` is the request's cookie options when they are its own (see
 * `SessionEngine.cookieOptionsFor`).
 */
export function secureFor(
  req: IncomingMessage,
  options: ResolvedSessionOptions,
  cookie: Readonly<ResolvedCookieOptions> = options.cookie,
): boolean {
  const { secure } = cookie;
  return secure === 'auto' ? isHttps(req, options.proxy) : secure;
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
    // On a shared prototype, a request the middleware never saw (an ignored path) has none.
    if (!isAttached(this)) return undefined;
    return (this[REQUEST_SESSION] ?? materialize(this)).session.id;
  },
  set(this: SessionRequest, value: unknown) {
    defineValue(this, 'sessionID', value);
  },
  configurable: true,
  enumerable: true,
};

/**
 * `req.sessionID`, an accessor that reads the request's own sessions. Where the framework gave
 * the request a prototype of its own (Express's), it is defined once, on the framework's root
 * prototype (the one just above Node's), for every request: Express's requests vary in hidden
 * class from one to the next, so a definition on each is a slow step, and the root is on the
 * chain of every app and sub-app, which a request moves between. Node's own request (Fastify's
 * raw one), or a chain where another library has a `sessionID` of its own, gets the accessor on
 * the request itself: Node's prototype is shared by every server in the process.
 */
function defineSessionId(req: IncomingMessage): void {
  const prototype = Object.getPrototypeOf(req) as object | null;
  let shared = prototype === null ? false : SHARES_SESSION_ID.get(prototype);
  if (shared === undefined) {
    shared = shareSessionId(prototype!);
    SHARES_SESSION_ID.set(prototype!, shared);
  }
  if (!shared) Object.defineProperty(req, 'sessionID', SESSION_ID);
}

/** Each request prototype seen, and whether its chain carries the shared `sessionID` accessor. */
const SHARES_SESSION_ID = new WeakMap<object, boolean>();

/** Puts the accessor on the root of a framework's chain above `prototype`, if it can. */
function shareSessionId(prototype: object): boolean {
  let root: object | undefined;
  for (let at: object | null = prototype; at !== IncomingMessage.prototype;) {
    // A chain that never reaches Node's request is not one this can vouch for.
    if (at === null) return false;
    const own = Object.getOwnPropertyDescriptor(at, 'sessionID');
    if (own && own.get !== SESSION_ID.get) return false;
    root = at;
    at = Object.getPrototypeOf(at) as object | null;
  }
  if (root === undefined) return false;
  if (!Object.hasOwn(root, 'sessionID')) Object.defineProperty(root, 'sessionID', SESSION_ID);
  return true;
}

/** Replaces an accessor with a plain property, as an assignment to an ordinary field behaves. */
function defineValue(req: IncomingMessage, name: 'session' | 'sessionID', value: unknown): void {
  Object.defineProperty(req, name, { value, writable: true, configurable: true, enumerable: true });
}

/** Makes a lazy request's sessions on first read. */
function materialize(req: SessionRequest): RequestSession {
  const done = req[REQUEST_SESSION];
  if (done) return done;
  const { engine, res, failure } = req[PENDING]!;
  if (failure !== undefined) {
    throw new SessionUnavailableError('get', failure, 'The session store is unavailable');
  }
  const request = engine.fresh(req, secureFor(req, engine.options, engine.cookieOptionsFor(req)));
  attachSession(req, request, res);
  return request;
}

/**
 * Whether the request came over HTTPS: a TLS socket, or with `proxy: true` an
 * `X-Forwarded-Proto: https`, or without `proxy` what Express says of it (its `trust proxy`).
 */
export function isHttps(req: IncomingMessage, proxy: boolean | undefined): boolean {
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
