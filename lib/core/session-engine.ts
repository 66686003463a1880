import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SessionGoneError } from '../exceptions/session-context.error';
import { SessionCookie, serializeCookie } from './cookie';
import type { ResolvedSessionOptions } from './options';
import { findChanges, type SessionChanges } from './changes';
import {
  FINGERPRINT_KEY,
  RESERVED_KEYS,
  SessionObject,
  type SessionOwner,
  type SessionState,
} from './session';
import { CookieSigner } from './signature';
import { StoreGateway } from './store-gateway';
import { isExpired, type StoredSession } from './stored-session';

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
}

/**
 * The request lifecycle, knowing nothing of HTTP frameworks: verify the cookie, load or create
 * the session, and at the end commit it (destroy, write what changed, or extend the expiry) and
 * say which `Set-Cookie` to send. One per application.
 */
export class SessionEngine {
  readonly signer: CookieSigner;
  readonly gateway: StoreGateway;

  constructor(
    readonly options: ResolvedSessionOptions,
    readonly logger: SessionLogger,
  ) {
    this.signer = new CookieSigner(options.secrets);
    this.gateway = new StoreGateway(options.store, options.storeTimeout);
  }

  /** Whether `pathname` is one of the `ignore` paths (full pathnames, or RegExps). */
  isIgnored(pathname: string): boolean {
    for (const pattern of this.options.ignore) {
      if (typeof pattern === 'string' ? pattern === pathname : pattern.test(pathname)) return true;
    }
    return false;
  }

  /** The first of the cookie values that verifies against one of the secrets. */
  verify(values: readonly string[]): VerifiedCookie | undefined {
    for (const value of values) {
      const verified = this.signer.verify(value);
      if (verified) return verified;
    }
    return undefined;
  }

  /** A request's sessions, with a new, empty session. */
  fresh(req: IncomingMessage, secure: boolean): RequestSession {
    return new RequestSession(this, req, secure, undefined, this.fingerprintOf(req), null);
  }

  /**
   * A request's sessions, with the session the cookie names loaded from the store, or a new one
   * when it is gone, expired, malformed or bound to another fingerprint.
   * Rejects with `SessionStoreError` when the store fails.
   */
  async open(
    req: IncomingMessage,
    secure: boolean,
    cookie: VerifiedCookie,
  ): Promise<RequestSession> {
    const record = await this.gateway.get(cookie.id);
    const fingerprint = this.fingerprintOf(req);
    const live =
      record !== null &&
      this.usable(record, cookie.id) &&
      (fingerprint === undefined || record[FINGERPRINT_KEY] === fingerprint);
    return new RequestSession(this, req, secure, cookie, fingerprint, live ? record : null);
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
        `Session ${id.slice(0, 6)}… in the store is not a session record; starting a fresh session`,
      );
      return false;
    }
    return !isExpired(record);
  }
}

/**
 * One request's session, and the owner its methods call into. `session` is the object the
 * handler holds from start to end: regenerate() refills it rather than replacing it.
 */
export class RequestSession implements SessionOwner {
  readonly session: SessionObject;
  private readonly state: SessionState;
  /** Whether this request has written the session (at the end, or through save()). */
  private wrote = false;
  /**
   * The store no longer held the session when this request wrote or touched it: another
   * request destroyed it (a logout) or it expired. Its writes are dropped from then on, so that
   * it is never brought back, and the response clears the cookie.
   */
  private gone = false;

  constructor(
    readonly engine: SessionEngine,
    readonly req: IncomingMessage,
    private readonly secure: boolean,
    /** The verified cookie the request came with, if any (not the one it will be sent). */
    readonly incoming: VerifiedCookie | undefined,
    fingerprint: string | undefined,
    /** The stored record the cookie names, when it is live: the session starts from it. */
    record: StoredSession | null,
  ) {
    this.state = {
      owner: this,
      id: undefined,
      makeId: () => engine.options.genid(req),
      cookie: record ? this.storedCookie(record) : this.newCookie(),
      isNew: true,
      destroyed: false,
      base: null,
      snapshot: new Map(),
      fingerprint,
      touchRequested: false,
    };
    this.session = new SessionObject(this.state);
    if (record) this.fill(record, incoming!.id);
  }

  /** Refills the session from the store's record (reload). */
  private hydrate(record: StoredSession, id: string): void {
    const { state, session } = this;
    for (const key of Object.keys(session))
      delete (session as unknown as Record<string, unknown>)[key];
    state.snapshot.clear();
    state.cookie = this.storedCookie(record);
    this.fill(record, id);
  }

  /** Puts a stored record's data on the (empty) session, and remembers it as the base. */
  private fill(record: StoredSession, id: string): void {
    const { state, session } = this;
    for (const key of Object.keys(record)) {
      if (RESERVED_KEYS.has(key) || key === FINGERPRINT_KEY) continue;
      const value = record[key];
      (session as unknown as Record<string, unknown>)[key] = value;
      state.snapshot.set(key, JSON.stringify(value));
    }
    state.id = id;
    state.isNew = false;
    state.base = record;
  }

  private storedCookie(record: StoredSession): SessionCookie {
    return new SessionCookie({ ...this.engine.options.cookie, ...record.cookie }, this.secure);
  }

  async regenerate(): Promise<void> {
    const { state } = this;
    if (!state.isNew && !state.destroyed) await this.engine.gateway.destroy(this.id);
    for (const key of Object.keys(this.session))
      delete (this.session as unknown as Record<string, unknown>)[key];
    Object.assign(state, {
      id: undefined,
      cookie: this.newCookie(),
      isNew: true,
      destroyed: false,
      base: null,
      touchRequested: false,
    });
    state.snapshot.clear();
    this.gone = false;
    (this.req as { session?: unknown }).session = this.session;
  }

  async destroy(): Promise<void> {
    const { state } = this;
    const wasStored = !state.isNew && !state.destroyed;
    state.destroyed = true;
    (this.req as { session?: unknown }).session = undefined;
    if (wasStored) await this.engine.gateway.destroy(this.id);
  }

  async reload(): Promise<void> {
    this.assertLive('reload');
    const id = this.id;
    const record = this.state.isNew ? null : await this.engine.gateway.get(id);
    if (!record || isExpired(record)) {
      throw new SessionGoneError(
        `Session reload() found no session ${id.slice(0, 6)}… in the store`,
      );
    }
    this.hydrate(record, id);
  }

  async save(): Promise<void> {
    this.assertLive('save');
    // A session found gone is not written again (logout is final): the save is dropped.
    if (!this.gone) await this.write(findChanges(this.session, this.state.snapshot));
  }

  touch(): void {
    this.state.cookie.reset();
    this.state.touchRequested = true;
  }

  /**
   * Ends the request's part before its response headers go out: writes what needs writing and
   * returns the `Set-Cookie` value to send, if any. Rejects with `SessionStoreError` or
   * `SessionSerializationError`.
   */
  async commit(): Promise<string | undefined> {
    const { state, engine } = this;
    const { options } = engine;
    if (state.destroyed || this.gone) return this.incoming ? this.clearingCookie() : undefined;
    const changes = findChanges(this.session, state.snapshot);
    const cookieChanged = state.cookie.changed;
    const dataChanged = changes.set.size > 0 || changes.unset.length > 0;
    if (state.isNew) {
      if (!dataChanged && !options.saveUninitialized) return undefined;
      await this.write(changes);
    } else if (dataChanged || cookieChanged || options.resave) {
      await this.write(changes);
    } else if (state.touchRequested || this.touchDue()) {
      state.cookie.reset();
      const extended = await engine.gateway.touch(this.id, this.toStored(), state.base!);
      if (extended === false) this.gone = true;
    }
    if (this.gone) return this.incoming ? this.clearingCookie() : undefined;
    const send =
      options.rolling ||
      cookieChanged ||
      (this.wrote && cookieDue(this.id, this.incoming, state.cookie)) ||
      this.resignDue();
    if (!send) return undefined;
    if (options.rolling && !this.wrote) state.cookie.reset();
    return state.cookie.serialize(options.name, engine.signer.sign(this.id));
  }

  /**
   * After the headers went out (the body is being streamed), before the response ends: writes
   * what the handler changed since `commit()`, so that a change made between two chunks is still
   * stored before the client sees the end. `undefined` when there is nothing to write.
   */
  commitLate(): Promise<void> | undefined {
    const { state } = this;
    if (state.destroyed || this.gone) return undefined;
    const changes = findChanges(this.session, state.snapshot);
    if (changes.set.size === 0 && changes.unset.length === 0 && !state.cookie.changed)
      return undefined;
    // A new session stored this late does not get its cookie (the headers are gone), as with
    // express-session; it is stored all the same, so that no change is lost without a word.
    return this.write(changes);
  }

  /** The id, taken from this request's own state, never from a property of the session object. */
  private get id(): string {
    const { state } = this;
    return (state.id ??= state.makeId());
  }

  /** A cookie verified with an older secret is signed again with the first, on the same id. */
  private resignDue(): boolean {
    const { incoming } = this;
    return incoming !== undefined && incoming.secretIndex > 0 && incoming.id === this.id;
  }

  /** Whether `touchAfter` has passed since the session's expiry was last set in the store. */
  private touchDue(): boolean {
    const stored = this.state.base?.cookie;
    let lastSet: number | undefined;
    if (stored?.expires && typeof stored.originalMaxAge === 'number') {
      lastSet = new Date(stored.expires).getTime() - stored.originalMaxAge;
    } else if (typeof stored?.touchedAt === 'number') {
      lastSet = stored.touchedAt;
    }
    return lastSet === undefined || Date.now() - lastSet >= this.engine.options.touchAfter;
  }

  /**
   * Writes the session: `set` for a new one, `patch` with just the changes for a stored one. A
   * patch the store could not apply because the record is gone marks the session gone.
   */
  private async write(changes: SessionChanges): Promise<void> {
    const { state, engine } = this;
    state.cookie.reset();
    const stored = this.toStored();
    if (state.isNew) {
      await engine.gateway.set(this.id, stored);
    } else {
      const set: Record<string, unknown> = {};
      for (const [key, change] of changes.set) set[key] = change.value;
      set.cookie = stored.cookie;
      const applied = await engine.gateway.patch(this.id, {
        set,
        unset: changes.unset,
        session: stored,
        base: state.base,
      });
      if (applied === false) {
        this.gone = true;
        return;
      }
    }
    for (const [key, change] of changes.set) state.snapshot.set(key, change.json);
    for (const key of changes.unset) state.snapshot.delete(key);
    state.isNew = false;
    state.touchRequested = false;
    state.cookie.changed = false;
    this.wrote = true;
  }

  private toStored(): StoredSession {
    const stored = {} as StoredSession;
    for (const key of Object.keys(this.session)) {
      if (RESERVED_KEYS.has(key)) continue;
      const value = (this.session as unknown as Record<string, unknown>)[key];
      if (value !== undefined) stored[key] = value;
    }
    // Set last: nothing the data holds can stand in for the cookie or the binding.
    stored.cookie = this.state.cookie.toJSON();
    // A browser-session cookie has no expiry to tell when the store last extended the session.
    if (!stored.cookie.expires) stored.cookie.touchedAt = Date.now();
    if (this.state.fingerprint !== undefined) stored[FINGERPRINT_KEY] = this.state.fingerprint;
    return stored;
  }

  private newCookie(): SessionCookie {
    const { cookie } = this.engine.options;
    const now = Date.now();
    const expires =
      cookie.expires ?? (cookie.maxAge === null ? null : new Date(now + cookie.maxAge));
    const originalMaxAge = cookie.expires ? cookie.expires.getTime() - now : cookie.maxAge;
    return new SessionCookie({ ...cookie, expires, originalMaxAge }, this.secure);
  }

  private clearingCookie(): string {
    const { options } = this.engine;
    return serializeCookie(
      options.name,
      '',
      { ...options.cookie, secure: this.secure },
      new Date(0),
    );
  }

  private assertLive(method: string): void {
    if (this.state.destroyed)
      throw new SessionGoneError(`Session ${method}() was called after destroy()`);
  }
}

/**
 * Whether a session this request wrote needs its cookie sent: when it is not the session the
 * request's cookie named (new, or regenerated), or when its cookie has an expiry, which moved
 * with the write. A browser-session cookie of the same session is already in the browser.
 */
export function cookieDue(
  id: string,
  incoming: VerifiedCookie | undefined,
  cookie: { readonly expires: Date | null | false },
): boolean {
  return id !== incoming?.id || Boolean(cookie.expires);
}
