import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookie';
import type { ResolvedCookieOptions, ResolvedSessionOptions } from './options';
import { redact } from './redact';
import { RequestSession } from './request-session';
import { FINGERPRINT_KEY, type SessionObject } from './session';
import { CookieSigner } from './signature';
import { StoreGateway } from './store-gateway';
import { isExpired, lastActiveAt, type StoredSession } from './stored-session';
import { UserSessions } from './user-sessions';

export { RequestSession } from './request-session';

/** Where the core reports what it could not do (Nest's `Logger` fits). */
export interface SessionLogger {
  error(message: string, stack?: string): void;
  warn(message: string): void;
}

/** A cookie the request carried, once its signature checked out. */
export interface VerifiedCookie {
  id: string;
  /** Which secret verified it: anything but 0 means the cookie must be signed again. */
  secretIndex: number;
  /** The signed value as it came (`s:<id>.<signature>`, not URL-encoded). */
  value: string;
}

/** Why a stored session can no longer be used: over its `idleTimeout` or `absoluteTimeout`. */
export type SessionOver = 'idle' | 'absolute' | undefined;

/**
 * Called when a request's session object is replaced (`regenerate()`: the same object, new id)
 * or removed (`destroy()`: `undefined`), so that the glue can keep `req.session` in step. The
 * core never writes to a request itself.
 */
export type SessionAttached = (req: IncomingMessage, session: SessionObject | undefined) => void;

/**
 * Where express-session behaves otherwise than `SessionModule`, for its drop-in
 * (`@tessera/session/express`), which gives all of them; `SessionModule` gives none. Each one is
 * express-session's documented or observable behaviour, which an app moving over may rely on.
 */
export interface ConnectBehaviour {
  /**
   * What becomes of a session whose `req.session` the handler removed (`delete`, or set to
   * `null`): `'keep'` leaves the stored session as it was and drops this request's changes (no
   * write, no cookie); `'destroy'` destroys it at the end and clears the cookie. Without it,
   * removing `req.session` changes nothing: the session is committed as usual.
   */
  readonly unset?: 'keep' | 'destroy';
  /**
   * Whether a request came over HTTPS. Given, a `Secure` cookie is not sent to a request that
   * did not (a browser would drop it), and a warning says so once; the session is still saved.
   */
  readonly isHttps?: (req: IncomingMessage) => boolean;
  /** `cookie` is one of the session's own enumerable keys (see `exposeCookie`). */
  readonly enumerableCookie?: boolean;
  /**
   * `regenerate()` puts a new session object on `req.session`, and the old one keeps its data:
   * code that copies from it afterwards (passport's `keepSessionInfo`) finds it there.
   */
  readonly newObjectOnRegenerate?: boolean;
  /**
   * A session `regenerate()` made is saved, and its cookie sent, even when nothing was stored
   * in it and `saveUninitialized` is off: express-session counts the new id as a change.
   */
  readonly saveRegenerated?: boolean;
  /**
   * A stored session's cookie is sent again only when its data changed (or rolling, or the
   * handler changed the cookie): a `resave` write of an unchanged session sends none.
   */
  readonly quietResave?: boolean;
  /**
   * The cookie options for one request (express-session's `cookie` option as a function of the
   * request), already resolved and checked; throws a `TypeError` when they are invalid.
   */
  readonly cookieFor?: (req: IncomingMessage) => Readonly<ResolvedCookieOptions>;
  /**
   * A session method called without a callback whose Promise rejects is logged here as well:
   * code written for express-session ignores what its methods return, and must not bring the
   * process down with an unhandled rejection.
   */
  readonly reportUnawaited?: boolean;
}

/**
 * The request lifecycle, knowing nothing of HTTP frameworks: verify the cookie, load or create
 * the session, and at the end commit it (destroy, write what changed, or extend the expiry) and
 * say which `Set-Cookie` to send. One per application.
 */
export class SessionEngine {
  readonly signer: CookieSigner;
  readonly gateway: StoreGateway;
  /** A user's sessions: the per-user index, read through the store (`userId` option). */
  readonly users: UserSessions;
  /** The warnings `warnOnce` has given. */
  private readonly warned = new Set<string>();

  constructor(
    readonly options: ResolvedSessionOptions,
    readonly logger: SessionLogger,
    /** How the glue hears that a request's session changed (see `SessionAttached`). */
    readonly attached: SessionAttached = () => undefined,
    /** express-session's behaviours, for its drop-in (see `ConnectBehaviour`). */
    readonly connect: ConnectBehaviour = {},
  ) {
    this.signer = new CookieSigner(options.secrets);
    this.gateway = new StoreGateway(options.store, options.storeTimeout);
    this.users = new UserSessions(this);
  }

  /** The cookie options for `req`: the options' own, or the `cookieFor` of a drop-in. */
  cookieOptionsFor(req: IncomingMessage): Readonly<ResolvedCookieOptions> {
    const { cookieFor } = this.connect;
    return cookieFor ? cookieFor(req) : this.options.cookie;
  }

  /** Logs `message` as a warning the first time it is given, and never again. */
  warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.logger.warn(message);
  }

  /** Whether `pathname` is one of the `ignore` paths (full pathnames, or RegExps). */
  isIgnored(pathname: string): boolean {
    for (const pattern of this.options.ignore) {
      if (typeof pattern === 'string' ? pattern === pathname : pattern.test(pathname)) return true;
    }
    return false;
  }

  /**
   * The request's signed session id, if it carries one whose signature checks out: from the
   * `header` option's header when it holds a valid one (it wins), else the first of the cookie's
   * values under the cookie name that verifies against one of the secrets. Never throws.
   */
  verify(req: IncomingMessage): VerifiedCookie | undefined {
    const { headerKey } = this.options;
    if (headerKey !== undefined) {
      const value = req.headers[headerKey];
      const verified = typeof value === 'string' ? this.signer.verify(value) : undefined;
      if (verified) return verified;
    }
    for (const value of readCookie(req.headers.cookie, this.options.name)) {
      const verified = this.signer.verify(value);
      if (verified) return verified;
    }
    return undefined;
  }

  /**
   * The one way a request (HTTP or a socket's handshake) gets its session: with a verified
   * cookie, the session it names, loaded (`open`); without, a new one (`fresh`). Rejects with
   * `SessionStoreError` when the store fails.
   */
  load(
    req: IncomingMessage,
    secure: boolean,
    cookie: VerifiedCookie | undefined,
  ): Promise<RequestSession> {
    return cookie ? this.open(req, secure, cookie) : Promise.resolve(this.fresh(req, secure));
  }

  /** A new, empty session for a request without a usable cookie; nothing is read or built yet. */
  fresh(req: IncomingMessage, secure: boolean): RequestSession {
    return new RequestSession(this, req, secure, undefined, this.fingerprintOf(req), null);
  }

  /**
   * The session the cookie names, loaded from the store, or a new one when it is gone, expired,
   * malformed or bound to another fingerprint. Rejects with `SessionStoreError`.
   */
  async open(
    req: IncomingMessage,
    secure: boolean,
    cookie: VerifiedCookie,
  ): Promise<RequestSession> {
    let record = await this.gateway.get(cookie.id);
    if (record !== null && !this.usable(record, cookie.id)) record = null;
    // A session over its timeout is ended here, as a logout would end it, index included.
    if (record !== null && this.overOf(record) !== undefined) {
      await this.gateway.destroy(cookie.id);
      record = null;
    }
    const fingerprint = this.fingerprintOf(req);
    const live =
      record !== null && (fingerprint === undefined || record[FINGERPRINT_KEY] === fingerprint);
    return new RequestSession(this, req, secure, cookie, fingerprint, live ? record : null);
  }

  /**
   * Whether a stored session is over on the server: unused for `idleTimeout`, or older than
   * `absoluteTimeout` (since it was created or regenerated). A record that cannot tell (one
   * express-session wrote) is judged by what it does say.
   */
  overOf(record: StoredSession, now = Date.now()): SessionOver {
    const { idleTimeout, absoluteTimeout } = this.options;
    if (idleTimeout === undefined && absoluteTimeout === undefined) return undefined;
    const last = lastActiveAt(record);
    if (idleTimeout !== undefined && last !== undefined && now - last >= idleTimeout) return 'idle';
    const created = record.cookie.createdAt ?? last;
    if (
      absoluteTimeout !== undefined &&
      typeof created === 'number' &&
      now - created >= absoluteTimeout
    )
      return 'absolute';
    return undefined;
  }

  fingerprintOf(req: IncomingMessage): string | undefined {
    const fingerprint = this.options.fingerprint;
    return fingerprint
      ? createHash('sha256')
          .update(String(fingerprint(req)))
          .digest('base64url')
      : undefined;
  }

  private usable(record: StoredSession, id: string): boolean {
    if (
      typeof record !== 'object' ||
      typeof record.cookie !== 'object' ||
      record.cookie === null ||
      Array.isArray(record)
    ) {
      this.logger.warn(
        `Session ${redact(id)} in the store is not a session record; starting a fresh session`,
      );
      return false;
    }
    return !isExpired(record);
  }
}
