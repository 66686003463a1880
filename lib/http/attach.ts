import { IncomingMessage, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SessionUnavailableError } from '../core/errors';
import type { ResolvedCookieOptions, ResolvedSessionOptions } from '../core/options';
import type { RequestSession, SessionAttached, SessionEngine } from '../core/session-engine';
import { REQUEST_SESSION } from './request-slot';
import { holdFor } from './response-hold';

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
  session?: unknown;
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
  const attached = req as SessionRequest;
  attached[REQUEST_SESSION] = request;
  // The accessors read it from here: those of the framework's root prototype, or those a request
  // attached lazily first has of its own (replacing them would be a slow step of its own).
  if (attached[PENDING] === undefined && !sharesAccessors(req, request.engine)) {
    // A plain assignment makes the same own property as a definition, at a fraction of its cost.
    attached.session = request.session;
    Object.defineProperty(req, 'sessionID', SESSION_ID);
  }
  if (res) holdFor(req, res, request, request.engine.logger);
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
  if (!sharesAccessors(req, engine)) {
    Object.defineProperty(req, 'session', SESSION);
    Object.defineProperty(req, 'sessionID', SESSION_ID);
  }
  // saveUninitialized saves every new session, read or not: there is nothing to be lazy about.
  if (engine.options.saveUninitialized && failure === undefined) materialize(req as SessionRequest);
}

/** The engine's `attached` hook: `req.session` follows regenerate() and destroy(). */
export const followSession: SessionAttached = (req, session) => {
  // SessionModule's regenerate() refills the object the request already reads: nothing to do.
  if ((req as { session?: unknown }).session !== session) defineValue(req, 'session', session);
};

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
/**
 * `req.session` as an accessor, on a framework's root prototype (see `sharesAccessors`) or on a
 * request attached lazily: the request's session, made on first read for a lazy one; none for a
 * request the middleware never saw (an ignored path). An assignment gives the request its own
 * plain property, as on any object; so does `delete` where the accessor is the request's own.
 */
const SESSION: PropertyDescriptor = {
  get(this: SessionRequest) {
    const request = this[REQUEST_SESSION];
    if (request) return request.session;
    return this[PENDING] === undefined ? undefined : materialize(this).session;
  },
  set(this: SessionRequest, value: unknown) {
    if (this[REQUEST_SESSION] === undefined && this[PENDING] !== undefined) materialize(this);
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
 * Whether `req.session` and `req.sessionID` are accessors on the root of the request's chain
 * (the prototype just above Node's `IncomingMessage.prototype`), which read the request's own
 * sessions: then nothing is defined on the request itself. Express gives each request a
 * prototype of its own, per app and sub-app, and its requests vary in hidden class from one to
 * the next, so that each property defined on one is a slow step; the root is on the chain of
 * every app and sub-app a request moves between. Node's own request (Fastify's raw one), whose
 * prototype every server in the process shares, or a chain where another library has a
 * `session` or `sessionID` of its own, gets the accessors on the request itself; so does a
 * request of the express-session drop-in, whose `unset` option acts on `delete req.session`.
 */
function sharesAccessors(req: IncomingMessage, engine: SessionEngine): boolean {
  // `delete req.session` is how an express-session app unsets it: that takes an own property.
  if (engine.connect.unset !== undefined) return false;
  const prototype = Object.getPrototypeOf(req) as object | null;
  if (prototype === null) return false;
  let shared = SHARES_ACCESSORS.get(prototype);
  if (shared === undefined) {
    shared = shareAccessors(prototype);
    SHARES_ACCESSORS.set(prototype, shared);
  }
  return shared;
}

/** Each request prototype seen, and whether its chain carries the shared accessors. */
const SHARES_ACCESSORS = new WeakMap<object, boolean>();

const SHARED_ACCESSORS = { session: SESSION, sessionID: SESSION_ID } as const;
const ACCESSOR_NAMES = Object.keys(SHARED_ACCESSORS) as (keyof typeof SHARED_ACCESSORS)[];

/** Puts the accessors on the root of a framework's chain above `prototype`, if it can. */
function shareAccessors(prototype: object): boolean {
  let root: object | undefined;
  for (let at: object | null = prototype; at !== IncomingMessage.prototype;) {
    // A chain that never reaches Node's request is not one this can vouch for.
    if (at === null) return false;
    for (const name of ACCESSOR_NAMES) {
      const own = Object.getOwnPropertyDescriptor(at, name);
      if (own && own.get !== SHARED_ACCESSORS[name].get) return false;
    }
    root = at;
    at = Object.getPrototypeOf(at) as object | null;
  }
  if (root === undefined) return false;
  if (!Object.hasOwn(root, 'session')) Object.defineProperties(root, SHARED_ACCESSORS);
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
