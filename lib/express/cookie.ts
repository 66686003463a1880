import {
  serializeCookie,
  type CookiePriority,
  type SameSiteOption,
  type SessionCookieOptions,
} from '../core/cookie';
import { deprecated } from './deprecation';

/**
 * The cookie's attributes, as `session()`'s `cookie` option and `new Cookie()` take them
 * (express-session's `CookieOptions`).
 */
export type CookieOptions = SessionCookieOptions;

/** What a cookie is stored as, and serialised from (express-session's `cookie.data`). */
export interface CookieData {
  originalMaxAge: number | null | false | undefined;
  partitioned: boolean | undefined;
  priority: CookiePriority | undefined;
  expires: Date | null | false | undefined;
  secure: boolean | 'auto' | undefined;
  httpOnly: boolean | undefined;
  domain: string | undefined;
  path: string | undefined;
  sameSite: SameSiteOption | undefined;
}

/**
 * A session's cookie as express-session models it, for stores and code written against
 * express-session: what `Store#createSession` puts on the sessions it builds. Made from its
 * options (every own key of them is copied on), it checks them as express-session's `Cookie`
 * does, with the same `TypeError`s. `maxAge` reads the ms left and sets `expires`;
 * `originalMaxAge` keeps the lifetime it was given.
 *
 * The sessions of `@tessera/session/express` itself carry Tessera's own cookie, which has the
 * same members and checks every attribute as it is assigned.
 *
 * @publicApi
 * @example
 * ```ts
 * const cookie = new Cookie({ maxAge: 60_000, sameSite: 'lax' });
 * cookie.serialize('connect.sid', signedValue); // 'connect.sid=…; Path=/; Expires=…; HttpOnly; SameSite=Lax'
 * ```
 */
export class Cookie {
  // `declare`: no class fields, which would be defined on each cookie as `undefined` (and hide
  // the accessors below); a cookie's own keys are the ones it is given, as with express-session.
  declare path: string;
  declare domain: string | undefined;
  declare httpOnly: boolean;
  declare secure: boolean | 'auto' | undefined;
  declare sameSite: SameSiteOption | undefined;
  declare partitioned: boolean | undefined;
  declare priority: CookiePriority | undefined;
  declare originalMaxAge: number | null | false | undefined;
  /** Where `expires` lives: an own key of every cookie, as on express-session's. */
  declare _expires: Date | null | false | undefined;

  /** `options`' own keys, every one, are copied on (a stored cookie's `originalMaxAge` too). */
  constructor(options?: CookieOptions & { originalMaxAge?: number | null }) {
    this.path = '/';
    this.maxAge = null;
    this.httpOnly = true;
    if (options) {
      if (typeof options !== 'object') throw new TypeError('argument options must be a object');
      // Inherited keys too, as express-session reads them: the same options give the same cookie.
      for (const key in options) {
        // `data` is computed; `__proto__` from parsed JSON would swap this cookie's prototype.
        if (key === 'data' || key === '__proto__') continue;
        (this as unknown as Record<string, unknown>)[key] = (options as Record<string, unknown>)[
          key
        ];
      }
    }
    if (this.originalMaxAge === undefined || this.originalMaxAge === null)
      this.originalMaxAge = this.maxAge;
  }

  /** When the cookie expires; `null` (or `false`) for a browser-session cookie. */
  get expires(): Date | null | false | undefined {
    return this._expires;
  }

  set expires(date: Date | null | false | undefined) {
    this._expires = date;
    // A new expiry is a new lifetime: what `resetMaxAge()` goes back to from now on.
    this.originalMaxAge = this.maxAge;
  }

  /** The ms left until the cookie expires; for a browser-session cookie, `expires` as it is. */
  get maxAge(): number | null | false | undefined {
    const expires = this._expires;
    return expires instanceof Date ? expires.getTime() - Date.now() : expires;
  }

  set maxAge(ms: number | Date | null | false | undefined) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date))
      throw new TypeError('maxAge must be a number or Date');
    if (ms instanceof Date)
      deprecated(
        'TESSERA_COOKIE_MAXAGE_DATE',
        'maxAge as Date; pass number of milliseconds instead',
      );
    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : ms;
  }

  /** The attributes as a store keeps them and a `Set-Cookie` is written from. */
  get data(): CookieData {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this._expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    };
  }

  /**
   * The `Set-Cookie` value that sends `value` (URL-encoded) under `name`. Every attribute is
   * checked, as Tessera checks its own cookies: a bad one throws a `TypeError` that names it.
   */
  serialize(name: string, value: string): string {
    const expires = this._expires;
    if (expires && !(expires instanceof Date))
      throw new TypeError(`session.cookie.expires must be a Date, got ${String(expires)}.`);
    return serializeCookie(
      name,
      value,
      { ...this.data, secure: Boolean(this.secure) },
      expires || undefined,
    );
  }

  toJSON(): CookieData {
    return this.data;
  }
}
