import type { IncomingMessage } from 'node:http';
import { findChanges, snapshotOf, type SessionChanges, type Snapshot } from './changes';
import { SessionCookie, serializeCookie } from './cookie';
import { SessionGoneError } from './errors';
import { redact } from './redact';
import {
  clearData,
  dataOf,
  exposeCookie,
  FINGERPRINT_KEY,
  RESERVED_KEYS,
  SessionObject,
  type SessionOwner,
} from './session';
import type { SessionEngine, VerifiedCookie } from './session-engine';
import { isExpired, lastActiveAt, type StoredSession } from './stored-session';

/**
 * One request's session, and the owner its methods call into. `session` is the object the
 * handler holds from start to end: regenerate() refills it rather than replacing it. Everything
 * else here is this request's own bookkeeping, which nothing outside reads or changes.
 */
export class RequestSession implements SessionOwner {
  /**
   * The session object. The same from start to end for `SessionModule`; the drop-in's
   * `regenerate()` makes a new one, as express-session does (see `ConnectBehaviour`).
   */
  session: SessionObject;
  /** The id, made on first read for a new session. */
  private sid: string | undefined;
  /** The cookie, built on first use: an unchanged read never needs it. */
  private current: SessionCookie | undefined;
  /** `true` until the session has been written to the store. */
  private isNew = true;
  private destroyed = false;
  /** The record as the store returned it (what `SessionChange.base` carries). */
  private base: StoredSession | null = null;
  /** Every data key as last loaded or written: how changes are found. */
  private readonly snapshot: Snapshot = new Map();
  /** `touch()` was called: extend the store's expiry at the end, whatever `touchAfter` says. */
  private touchRequested = false;
  /** Whether this request has written the session (at the end, or through save()). */
  private wrote = false;
  /** Whether one of those writes created the session or changed its data (not a bare resave). */
  private wroteData = false;
  /**
   * The store no longer held the session when this request wrote or touched it: another
   * request destroyed it (a logout) or it expired. Its writes are dropped from then on, so that
   * it is never brought back, and the response clears the cookie.
   */
  private gone = false;
  /**
   * When the session was created or regenerated (ms), once known: a stored record says, a new
   * session takes the time of its first write. What `absoluteTimeout` counts from.
   */
  private createdAt: number | undefined;
  /**
   * The session header the response carries, when the `header` option is on and the commit
   * decided to send the cookie (the signed id) or to clear it (empty).
   */
  sessionHeader: readonly [name: string, value: string] | undefined;
  /** The store's destroy of the session, while the response has not waited for it. */
  private destroying: Promise<void> | undefined;
  /** regenerate() made this (new) session: the drop-in saves it even empty, as connect did. */
  private regenerated = false;
  /** The changes `commitDue()` found, for the `commit()` that follows it at once. */
  private pending: SessionChanges | undefined;

  constructor(
    readonly engine: SessionEngine,
    readonly req: IncomingMessage,
    private readonly secure: boolean,
    /** The verified cookie the request came with, if any (not the one it will be sent). */
    readonly incoming: VerifiedCookie | undefined,
    /** Hash of the fingerprint the session is bound to, when the option is on. */
    private readonly fingerprint: string | undefined,
    /** The stored record the cookie names, when it is live: the session starts from it. */
    record: StoredSession | null,
  ) {
    this.session = this.newObject();
    if (record) this.fill(record, incoming!.id);
  }

  /** The id, taken from this request's own state, never from a property of the session object. */
  get id(): string {
    return (this.sid ??= this.engine.options.genid(this.req));
  }

  get cookie(): SessionCookie {
    return (this.current ??= this.base ? this.storedCookie(this.base) : this.newCookie());
  }

  async regenerate(): Promise<void> {
    if (!this.isNew && !this.destroyed) await this.engine.gateway.destroy(this.id);
    // express-session's regenerate() leaves the old object as it was, for code that copies
    // from it (passport's keepSessionInfo); SessionModule refills the one object the handler has.
    if (this.engine.connect.newObjectOnRegenerate) this.session = this.newObject();
    else clearData(this.session);
    this.snapshot.clear();
    this.sid = undefined;
    this.current = undefined;
    this.isNew = true;
    this.destroyed = false;
    this.base = null;
    this.touchRequested = false;
    this.gone = false;
    this.createdAt = undefined;
    this.regenerated = true;
    this.engine.attached(this.req, this.session);
  }

  destroy(): Promise<void> {
    const wasStored = !this.isNew && !this.destroyed;
    this.destroyed = true;
    this.engine.attached(this.req, undefined);
    if (!wasStored) return Promise.resolve();
    const destroying = this.engine.gateway.destroy(this.id);
    // The response waits for it (see commit()), so a logout the store did not take is never
    // answered as done; and a handler that does not wait for it (express-session code does
    // not) cannot bring the process down with an unhandled rejection: it is handled here.
    destroying.catch(() => undefined);
    this.destroying = destroying;
    return destroying;
  }

  async reload(): Promise<void> {
    this.assertLive('reload');
    const id = this.id;
    const record = this.isNew ? null : await this.engine.gateway.get(id);
    if (!record || isExpired(record) || this.engine.overOf(record) !== undefined) {
      throw new SessionGoneError(`Session reload() found no session ${redact(id)} in the store`);
    }
    clearData(this.session);
    this.snapshot.clear();
    this.current = undefined;
    this.fill(record, id);
  }

  async save(): Promise<void> {
    this.assertLive('save');
    // A session found gone is not written again (logout is final): the save is dropped.
    if (!this.gone) await this.write(findChanges(this.session, this.snapshot));
  }

  touch(): void {
    this.cookie.reset();
    this.touchRequested = true;
  }

  unawaited(method: string, promise: Promise<void>): void {
    const { connect, logger } = this.engine;
    if (!connect.reportUnawaited) return;
    // Handled here, so an ignored Promise is no unhandled rejection; an awaiting caller still
    // gets the rejection.
    promise.catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      logger.error(
        `Session ${method}() failed (called without a callback): ${message}`,
        err instanceof Error ? err.stack : undefined,
      );
    });
  }

  /**
   * Whether `commit()` has anything to do: a store call, a cookie or a header to send. `false`
   * only when it certainly has not (an unchanged read), so the response need not wait for it;
   * `true` may be cautious. The changes found are kept for the commit that follows at once.
   * Throws what `findChanges` throws.
   */
  commitDue(): boolean {
    const { options } = this.engine;
    this.pending = undefined;
    if (this.destroying) return true;
    if (this.destroyed || this.gone) return this.incoming !== undefined || Boolean(options.header);
    const unset = this.unsetNow();
    if (unset !== undefined) return unset === 'destroy';
    if (options.rolling || options.resave || this.touchRequested || this.current?.changed)
      return true;
    if (this.resignDue()) return true;
    const changes = findChanges(this.session, this.snapshot);
    if (changes.set.size > 0 || changes.unset.length > 0) {
      this.pending = changes;
      return true;
    }
    return this.isNew ? options.saveUninitialized || this.savesRegenerated() : this.touchDue();
  }

  /**
   * Ends the request's part before its response headers go out: writes what needs writing and
   * returns the `Set-Cookie` value to send, if any. Rejects with `SessionStoreError` or
   * `SessionSerializationError`.
   */
  async commit(): Promise<string | undefined> {
    const { options } = this.engine;
    const unset = this.unsetNow();
    if (unset === 'keep') return undefined;
    if (unset === 'destroy') await this.destroy();
    if (this.destroying) await this.settleDestroy();
    if (this.destroyed || this.gone) return this.clearing();
    const changes = this.pending ?? findChanges(this.session, this.snapshot);
    this.pending = undefined;
    const cookieChanged = this.current?.changed ?? false;
    const dataChanged = changes.set.size > 0 || changes.unset.length > 0;
    if (this.isNew) {
      if (!dataChanged && !options.saveUninitialized && !this.savesRegenerated()) return undefined;
      await this.write(changes);
    } else if (dataChanged || cookieChanged || options.resave) {
      await this.write(changes);
    } else if (this.touchRequested || this.touchDue()) {
      this.cookie.reset();
      const extended = await this.engine.gateway.touch(this.id, this.toStored(), this.base!);
      if (extended === false) this.gone = true;
    }
    if (this.gone) return this.clearing();
    const wrote = this.engine.connect.quietResave ? this.wroteData : this.wrote;
    const send =
      options.rolling ||
      cookieChanged ||
      (wrote && cookieDue(this.id, this.incoming, this.cookie)) ||
      this.resignDue();
    if (!send || this.withheld(this.cookie.secure)) return undefined;
    if (options.rolling && !this.wrote) this.cookie.reset();
    const signed = this.signedId();
    if (options.header) this.sessionHeader = [options.header, signed];
    return this.cookie.serialize(options.name, signed);
  }

  /**
   * After the headers went out (the body is being streamed), before the response ends: writes
   * what the handler changed since `commit()`, so that a change made between two chunks is still
   * stored before the client sees the end. `undefined` when there is nothing to write.
   */
  commitLate(): Promise<void> | undefined {
    if (this.destroying) return this.settleDestroy();
    if (this.destroyed || this.gone) return undefined;
    const unset = this.unsetNow();
    if (unset !== undefined) return unset === 'destroy' ? this.destroy() : undefined;
    const changes = findChanges(this.session, this.snapshot);
    if (changes.set.size === 0 && changes.unset.length === 0 && !this.current?.changed)
      return undefined;
    // A new session stored this late does not get its cookie (the headers are gone), as with
    // express-session; it is stored all the same, so that no change is lost without a word.
    return this.write(changes);
  }

  private newObject(): SessionObject {
    const session = new SessionObject(this);
    if (this.engine.connect.enumerableCookie) exposeCookie(session);
    return session;
  }

  /** Waits for a destroy() the handler may not have waited for; rejects as it did. */
  private async settleDestroy(): Promise<void> {
    const destroying = this.destroying;
    this.destroying = undefined;
    await destroying;
  }

  /** Whether a new, empty session is saved because regenerate() made it (the drop-in's way). */
  private savesRegenerated(): boolean {
    return this.regenerated && this.engine.connect.saveRegenerated === true;
  }

  /** Puts a stored record's data on the (empty) session, and remembers it as the base. */
  private fill(record: StoredSession, id: string): void {
    const data = dataOf(this.session);
    for (const key of Object.keys(record)) {
      if (RESERVED_KEYS.has(key)) continue;
      const value = record[key];
      data[key] = value;
      this.snapshot.set(key, snapshotOf(value));
    }
    this.sid = id;
    this.isNew = false;
    this.base = record;
    // A record from before Tessera kept `createdAt` is taken to be as old as its last activity.
    const createdAt = record.cookie.createdAt;
    this.createdAt = typeof createdAt === 'number' ? createdAt : lastActiveAt(record);
  }

  /** The signed id: the incoming value when the first secret signed that same id (no HMAC). */
  private signedId(): string {
    const { incoming } = this;
    if (incoming?.secretIndex === 0 && incoming.id === this.id) return incoming.value;
    return this.engine.signer.sign(this.id);
  }

  /** A cookie verified with an older secret is signed again with the first, on the same id. */
  private resignDue(): boolean {
    const { incoming } = this;
    return incoming !== undefined && incoming.secretIndex > 0 && incoming.id === this.id;
  }

  /**
   * The `unset` behaviour due now: the handler removed `req.session` (deleted it or set it to
   * `null`) of a session it did not destroy. `undefined` when it did not, or without `unset`.
   */
  private unsetNow(): 'keep' | 'destroy' | undefined {
    const { unset } = this.engine.connect;
    if (unset === undefined || this.destroyed) return undefined;
    const current = (this.req as { session?: unknown }).session;
    return current === null || current === undefined ? unset : undefined;
  }

  /**
   * Whether a cookie with `Secure` must not be sent because the request did not come over
   * HTTPS (a drop-in's `isHttps`), which the log then says once.
   */
  private withheld(secure: boolean): boolean {
    const { isHttps } = this.engine.connect;
    if (!isHttps || !secure || isHttps(this.req)) return false;
    this.engine.warnOnce(SECURE_OVER_HTTP);
    return true;
  }

  /** Whether `touchAfter` has passed since the session's expiry was last set in the store. */
  private touchDue(): boolean {
    const lastSet = this.base ? lastActiveAt(this.base) : undefined;
    return lastSet === undefined || Date.now() - lastSet >= this.engine.options.touchAfter;
  }

  /**
   * Writes the session: `set` for a new one, `patch` with just the changes for a stored one. A
   * patch the store could not apply because the record is gone marks the session gone.
   */
  private async write(changes: SessionChanges): Promise<void> {
    const { gateway } = this.engine;
    this.cookie.reset();
    const stored = this.toStored();
    const wasNew = this.isNew;
    if (this.isNew) {
      await gateway.set(this.id, stored);
    } else {
      const set: Record<string, unknown> = {};
      for (const [key, change] of changes.set) set[key] = change.value;
      set.cookie = stored.cookie;
      const change = { set, unset: changes.unset, session: stored, base: this.base };
      if ((await gateway.patch(this.id, change)) === false) {
        this.gone = true;
        return;
      }
    }
    for (const [key, change] of changes.set)
      this.snapshot.set(key, snapshotOf(change.value, change.json));
    for (const key of changes.unset) this.snapshot.delete(key);
    this.isNew = false;
    this.touchRequested = false;
    this.cookie.changed = false;
    this.wrote = true;
    if (wasNew || changes.set.size > 0 || changes.unset.length > 0) this.wroteData = true;
  }

  private toStored(): StoredSession {
    const stored = {} as StoredSession;
    const data = dataOf(this.session);
    for (const key of Object.keys(data)) {
      if (RESERVED_KEYS.has(key)) continue;
      const value = data[key];
      if (value !== undefined) stored[key] = value;
    }
    // Set last: nothing the data holds can stand in for the cookie or the binding.
    const cookie = (stored.cookie = this.cookie.toJSON());
    // Tessera's own bookkeeping rides in the cookie, where no reader takes it for data.
    const now = Date.now();
    cookie.touchedAt = now;
    cookie.createdAt = this.createdAt ??= now;
    const user = this.engine.users.userOf(this.session);
    if (user !== undefined) cookie.user = user;
    if (this.fingerprint !== undefined) stored[FINGERPRINT_KEY] = this.fingerprint;
    return stored;
  }

  private storedCookie(record: StoredSession): SessionCookie {
    return new SessionCookie(record.cookie, this.secure, this.engine.cookieOptionsFor(this.req));
  }

  private newCookie(): SessionCookie {
    const cookie = this.engine.cookieOptionsFor(this.req);
    const now = Date.now();
    const expires =
      cookie.expires ?? (cookie.maxAge === null ? null : new Date(now + cookie.maxAge));
    const originalMaxAge = cookie.expires ? cookie.expires.getTime() - now : cookie.maxAge;
    return new SessionCookie({ ...cookie, expires, originalMaxAge }, this.secure);
  }

  /** The `Set-Cookie` that clears the cookie the request came with (none if it came without). */
  private clearing(): string | undefined {
    const { options } = this.engine;
    if (options.header) this.sessionHeader = [options.header, ''];
    if (!this.incoming || this.withheld(this.secure)) return undefined;
    return serializeCookie(
      options.name,
      '',
      { ...this.engine.cookieOptionsFor(this.req), secure: this.secure },
      new Date(0),
    );
  }

  private assertLive(method: string): void {
    if (this.destroyed)
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

const SECURE_OVER_HTTP =
  'A session cookie with the Secure attribute was not sent: the request did not come over ' +
  'HTTPS, and a browser drops such a cookie over plain HTTP (the session was saved, but the ' +
  "client will not send it back). Behind a proxy that terminates TLS, trust it: Express's " +
  "app.set('trust proxy', 1), or the session option proxy: true (X-Forwarded-Proto); or use " +
  "cookie.secure: 'auto'. Said once.";
