import {
  checkAttribute,
  checkCookieName,
  cookiePrefix,
  lowerCase,
  PRIORITY,
  SAME_SITE,
  show,
  type Failure,
} from './cookie-rules';
import { isoString, isoTime, utcString } from './date-text';
import type { StoredCookie } from './stored-session';

/**
 * `SameSite` as the options accept it: `true` means `Strict`, `false` leaves it out, and
 * `'auto'` is `None` on a `Secure` cookie and `Lax` otherwise (express-session's `'auto'`).
 */
export type SameSiteOption = boolean | 'lax' | 'strict' | 'none' | 'auto';

/**
 * The session cookie's options, as `SessionModuleOptions.cookie` takes them.
 * @publicApi
 */
export interface SessionCookieOptions {
  /** @default '/' */
  path?: string;
  /** @default none (the cookie goes back to the host that set it only) */
  domain?: string;
  /** @default true */
  httpOnly?: boolean;
  /** `'auto'`: `Secure` when the request came over HTTPS (see the `proxy` option). @default 'auto' */
  secure?: boolean | 'auto';
  /** @default 'lax' */
  sameSite?: SameSiteOption;
  /** Lifetime in ms; `null` makes a browser-session cookie. @default 14_400_000 (4 hours) */
  maxAge?: number | null;
  /** A fixed expiry; `maxAge` is preferred, and wins when both are given. */
  expires?: Date | null;
  /** CHIPS `Partitioned` attribute. @default false */
  partitioned?: boolean;
  /** `Priority` attribute. @default none */
  priority?: CookiePriority;
}

/** The attributes a stored cookie may leave out, taken from the options instead. */
export interface CookieDefaults {
  readonly path?: string;
  readonly domain?: string;
  readonly httpOnly?: boolean;
  readonly sameSite?: SameSiteOption;
  readonly priority?: CookiePriority;
  readonly partitioned?: boolean;
}

const NO_DEFAULTS: CookieDefaults = Object.freeze({});

/** A field the cookie has (present, even `null`), else the default: as `{ ...defaults, ...fields }`. */
function either<T>(field: T | undefined, fallback: T | undefined): T | undefined {
  return field !== undefined ? field : fallback;
}

/** A cookie's `Priority`, as the options take it. */
export type CookiePriority = 'low' | 'medium' | 'high';

/**
 * One session's cookie: its attributes and its expiry. `maxAge` reads the time remaining and
 * can be assigned, as connect's did; `expires` is a `Date`, or `null`/`false` for a
 * browser-session cookie. `path`, `domain`, `sameSite` and `priority` are checked when assigned
 * (a `TypeError` naming the attribute), so that a bad value fails in the handler that made it
 * and is never stored; `sameSite` and `priority` are normalised to lower case.
 *
 * @publicApi
 */
export class SessionCookie {
  httpOnly: boolean;
  secure: boolean;
  partitioned: boolean | undefined;
  /** The lifetime the cookie was given, in ms (`null`: browser session). */
  originalMaxAge: number | null;
  private expiry: Date | null | false;
  private attributes: CheckedAttributes;
  /** Whether the handler changed the expiry this request (so it must be stored and sent). */
  changed = false;

  /**
   * @param fields the cookie's own: a stored record's, or a new session's
   * @param defaults the attributes a record leaves out (the options'), read only where a field
   *   is absent: the expiry is always the record's
   */
  constructor(
    fields: Omit<StoredCookie, 'secure'>,
    secure: boolean,
    defaults: CookieDefaults = NO_DEFAULTS,
  ) {
    // Not checked here: the options were at start-up, and a store's record may hold what an
    // older version or express-session wrote. `serializeCookie` refuses what is bad in it.
    this.attributes = {
      path: either(fields.path, defaults.path) ?? '/',
      domain: either(fields.domain, defaults.domain),
      sameSite: lowerCase(either(fields.sameSite, defaults.sameSite)),
      priority: lowerCase(either(fields.priority, defaults.priority)),
    };
    this.httpOnly = either(fields.httpOnly, defaults.httpOnly) ?? true;
    this.secure = secure;
    this.partitioned = either(fields.partitioned, defaults.partitioned);
    this.originalMaxAge = fields.originalMaxAge ?? null;
    const expires = fields.expires;
    this.expiry = expires
      ? new Date(typeof expires === 'string' ? isoTime(expires) : expires)
      : null;
  }

  get path(): string {
    return this.attributes.path!;
  }

  set path(path: string) {
    this.attributes.path = checkAttribute.path(path, REQUEST_FAILURE.path);
  }

  get domain(): string | undefined {
    return this.attributes.domain;
  }

  set domain(domain: string | undefined) {
    this.attributes.domain = checkAttribute.domain(domain, REQUEST_FAILURE.domain);
  }

  get sameSite(): SameSiteOption | undefined {
    return this.attributes.sameSite;
  }

  set sameSite(sameSite: SameSiteOption | undefined) {
    this.attributes.sameSite = checkAttribute.sameSite(sameSite, REQUEST_FAILURE.sameSite);
  }

  get priority(): CookiePriority | undefined {
    return this.attributes.priority;
  }

  set priority(priority: CookiePriority | undefined) {
    this.attributes.priority = checkAttribute.priority(priority, REQUEST_FAILURE.priority);
  }

  /** When the session expires, or `null`/`false` for a browser-session cookie. */
  get expires(): Date | null | false {
    return this.expiry;
  }

  set expires(date: Date | null | false) {
    const next = date ? new Date(date) : date;
    if (next && Number.isNaN(next.getTime()))
      REQUEST_FAILURE.expires(`must be a valid Date, null or false, got ${show(date)}`);
    // The expiry it already has (null over null, the same instant) is no change: it must not
    // rewrite the session and re-send the cookie on every request that assigns it.
    const unchanged = next
      ? this.expiry !== false && this.expiry?.getTime() === next.getTime()
      : !this.expiry && this.originalMaxAge === null;
    if (unchanged) return;
    this.expiry = next;
    this.originalMaxAge = this.maxAge;
    this.changed = true;
  }

  /** Milliseconds until the session expires (`null` for a browser-session cookie). */
  get maxAge(): number | null {
    return this.expiry ? this.expiry.getTime() - Date.now() : null;
  }

  set maxAge(ms: number | null) {
    if (typeof ms !== 'number') {
      this.expires = null;
      return;
    }
    const expires = new Date(Date.now() + ms);
    if (Number.isNaN(expires.getTime())) {
      REQUEST_FAILURE.maxAge(
        `must be a number of ms, or null for a browser-session cookie, got ${show(ms)}`,
      );
    }
    this.expires = expires;
  }

  /** Starts the cookie's lifetime again from now (connect's `resetMaxAge`). */
  reset(now = Date.now()): void {
    if (this.originalMaxAge !== null) this.expiry = new Date(now + this.originalMaxAge);
  }

  toJSON(): StoredCookie {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this.expiry ? isoString(this.expiry) : null,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    };
  }

  /** The `Set-Cookie` header value that sends `value` under `name` with these attributes. */
  serialize(name: string, value: string): string {
    return serializeCookie(name, value, this, this.expiry || undefined);
  }
}

interface CookieAttributes {
  path?: string;
  domain?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: SameSiteOption;
  partitioned?: boolean;
  priority?: CookiePriority;
}

interface CheckedAttributes {
  path: string | undefined;
  domain: string | undefined;
  sameSite: SameSiteOption | undefined;
  priority: CookiePriority | undefined;
}

/** A TypeError for a bad value a handler assigned, or a store handed back, naming the attribute. */
function requestFailure(attribute: string): Failure {
  return (problem) => {
    throw new TypeError(`session.cookie.${attribute} ${problem}.`);
  };
}

const REQUEST_FAILURE = {
  path: requestFailure('path'),
  domain: requestFailure('domain'),
  sameSite: requestFailure('sameSite'),
  priority: requestFailure('priority'),
  expires: requestFailure('expires'),
  maxAge: requestFailure('maxAge'),
};
const NAME_FAILURE: Failure = (problem) => {
  throw new TypeError(`Session cookie name ${problem}.`);
};

/** The last name and attributes that passed the checks: almost every cookie has the same ones. */
let lastChecked:
  { name: string; attributes: CheckedAttributes; given: CheckedAttributes } | undefined;

/** `attributes` checked and normalised for a cookie called `name` (see `serializeCookie`). */
function checkedAttributes(name: string, attributes: CookieAttributes): CheckedAttributes {
  const last = lastChecked;
  if (
    last !== undefined &&
    last.name === name &&
    last.given.path === attributes.path &&
    last.given.domain === attributes.domain &&
    last.given.sameSite === attributes.sameSite &&
    last.given.priority === attributes.priority
  ) {
    return last.attributes;
  }
  checkCookieName(name, NAME_FAILURE);
  const checked: CheckedAttributes = {
    path: checkAttribute.path(attributes.path, REQUEST_FAILURE.path),
    domain: checkAttribute.domain(attributes.domain, REQUEST_FAILURE.domain),
    sameSite: checkAttribute.sameSite(attributes.sameSite, REQUEST_FAILURE.sameSite),
    priority: checkAttribute.priority(attributes.priority, REQUEST_FAILURE.priority),
  };
  if (cookiePrefix(name) === '__Host-') {
    // A browser drops such a cookie without a word: the session would be lost on every request.
    const { path, domain } = checked;
    if (path !== '/') REQUEST_FAILURE.path(`must be "/" for a __Host- cookie, got ${show(path)}`);
    if (domain)
      REQUEST_FAILURE.domain(`must be left out for a __Host- cookie, got ${show(domain)}`);
  }
  const { path, domain, sameSite, priority } = attributes;
  lastChecked = { name, attributes: checked, given: { path, domain, sameSite, priority } };
  return checked;
}

/**
 * Builds a `Set-Cookie` value. `value` is URL-encoded here, as express-session does. Every
 * other part is checked, whatever a handler assigned or a store handed back: an attribute is
 * normalised when it can be (`SameSite` in any case) and refused with a `TypeError` naming it
 * when it cannot, so nothing is ever injected into the header or sent malformed.
 */
export function serializeCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
  expires?: Date,
): string {
  const { path, domain, sameSite, priority } = checkedAttributes(name, attributes);
  if (expires && Number.isNaN(expires.getTime()))
    REQUEST_FAILURE.expires(`must be a valid Date, got ${show(expires)}`);
  let header = `${name}=${encodeURIComponent(value)}`;
  if (path) header += `; Path=${path}`;
  if (expires) header += `; Expires=${utcString(expires)}`;
  if (domain) header += `; Domain=${domain}`;
  if (attributes.httpOnly) header += '; HttpOnly';
  if (attributes.secure) header += '; Secure';
  if (attributes.partitioned) header += '; Partitioned';
  if (priority) header += `; Priority=${PRIORITY[priority]}`;
  if (sameSite) header += `; SameSite=${sameSiteOf(sameSite, attributes.secure)}`;
  return header;
}

/** The `SameSite` attribute's value for an option that is set (not `false`). */
function sameSiteOf(sameSite: Exclude<SameSiteOption, false>, secure: boolean | undefined): string {
  if (sameSite === true) return 'Strict';
  if (sameSite === 'auto') return secure ? 'None' : 'Lax';
  return SAME_SITE[sameSite]!;
}

export { readCookie } from './cookie-header';
export { checkAttribute, checkCookieName, cookiePrefix, show, type Failure } from './cookie-rules';
