import type { StoredCookie } from './stored-session';

/** `SameSite` as the options accept it: `true` means `Strict`, `false` leaves it out. */
export type SameSiteOption = boolean | 'lax' | 'strict' | 'none';

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

  constructor(fields: Omit<StoredCookie, 'secure'>, secure: boolean) {
    // Not checked here: the options were at start-up, and a store's record may hold what an
    // older version or express-session wrote. `serializeCookie` refuses what is bad in it.
    this.attributes = {
      path: fields.path ?? '/',
      domain: fields.domain,
      sameSite: lowerCase(fields.sameSite),
      priority: lowerCase(fields.priority),
    };
    this.httpOnly = fields.httpOnly ?? true;
    this.secure = secure;
    this.partitioned = fields.partitioned;
    this.originalMaxAge = fields.originalMaxAge ?? null;
    const expires = fields.expires;
    this.expiry = expires ? new Date(expires) : null;
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
      expires: this.expiry ? this.expiry.toISOString() : null,
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

/** Called with what is wrong with a value; throws an error that names where the value came from. */
export type Failure = (problem: string) => never;

// RFC 6265 token characters: what a cookie name may contain.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265's path-value (any CHAR but controls and ";"), less the space, after a leading "/".
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;
// A host name: dot-separated labels of letters, digits and "-", with an optional leading dot.
const COOKIE_DOMAIN = /^\.?[a-z0-9-]+(?:\.[a-z0-9-]+)*$/i;
const SAME_SITE: Readonly<Record<string, string>> = { lax: 'Lax', strict: 'Strict', none: 'None' };
const PRIORITY: Readonly<Record<string, string>> = { low: 'Low', medium: 'Medium', high: 'High' };

/** A cookie name that browsers require to be `Secure`, and for `__Host-` also `Path=/` and no `Domain`. */
export function cookiePrefix(name: string): '__Host-' | '__Secure-' | undefined {
  // Browsers match the prefixes in any case (RFC 6265bis), so a "__HOST-" name is held to them too.
  const prefix = /^__(host|secure)-/i.exec(name)?.[1]?.toLowerCase();
  return prefix === 'host' ? '__Host-' : prefix === 'secure' ? '__Secure-' : undefined;
}

/** Checks a cookie name, the same way at start-up and for each header. */
export function checkCookieName(name: unknown, fail: Failure): string {
  if (typeof name === 'string' && COOKIE_NAME.test(name)) return name;
  return fail(
    `must be a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~), got ${show(name)}`,
  );
}

/**
 * The checks of the attributes that carry a value into the header: each returns the value
 * normalised (`sameSite` and `priority` in lower case; `undefined`: left out of the header),
 * or calls `fail` with what is wrong. The same rules hold for the options at start-up, for a
 * handler's assignment and for every `Set-Cookie` written.
 */
export const checkAttribute = {
  path(value: unknown, fail: Failure): string | undefined {
    if (value === undefined || (typeof value === 'string' && COOKIE_PATH.test(value))) return value;
    return fail(
      `must be a path starting with "/", without spaces, control characters or ";", got ${show(value)}`,
    );
  },
  domain(value: unknown, fail: Failure): string | undefined {
    if (value === undefined || (typeof value === 'string' && COOKIE_DOMAIN.test(value)))
      return value;
    return fail(`must be a host name, got ${show(value)}`);
  },
  sameSite(value: unknown, fail: Failure): SameSiteOption | undefined {
    if (value === undefined || typeof value === 'boolean') return value;
    const lower = lowerCase(value);
    if (typeof lower === 'string' && Object.hasOwn(SAME_SITE, lower))
      return lower as SameSiteOption;
    return fail(`must be 'lax', 'strict', 'none', true or false, got ${show(value)}`);
  },
  priority(value: unknown, fail: Failure): CookiePriority | undefined {
    if (value === undefined) return value;
    const lower = lowerCase(value);
    if (typeof lower === 'string' && Object.hasOwn(PRIORITY, lower)) return lower as CookiePriority;
    return fail(`must be 'low', 'medium' or 'high', got ${show(value)}`);
  },
};

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
  checkCookieName(name, NAME_FAILURE);
  const path = checkAttribute.path(attributes.path, REQUEST_FAILURE.path);
  const domain = checkAttribute.domain(attributes.domain, REQUEST_FAILURE.domain);
  const sameSite = checkAttribute.sameSite(attributes.sameSite, REQUEST_FAILURE.sameSite);
  const priority = checkAttribute.priority(attributes.priority, REQUEST_FAILURE.priority);
  if (expires && Number.isNaN(expires.getTime()))
    REQUEST_FAILURE.expires(`must be a valid Date, got ${show(expires)}`);
  if (cookiePrefix(name) === '__Host-') {
    // A browser drops such a cookie without a word: the session would be lost on every request.
    if (path !== '/') REQUEST_FAILURE.path(`must be "/" for a __Host- cookie, got ${show(path)}`);
    if (domain)
      REQUEST_FAILURE.domain(`must be left out for a __Host- cookie, got ${show(domain)}`);
  }
  let header = `${name}=${encodeURIComponent(value)}`;
  if (path) header += `; Path=${path}`;
  if (expires) header += `; Expires=${expires.toUTCString()}`;
  if (domain) header += `; Domain=${domain}`;
  if (attributes.httpOnly) header += '; HttpOnly';
  if (attributes.secure) header += '; Secure';
  if (attributes.partitioned) header += '; Partitioned';
  if (priority) header += `; Priority=${PRIORITY[priority]}`;
  if (sameSite) header += `; SameSite=${sameSite === true ? 'Strict' : SAME_SITE[sameSite]}`;
  return header;
}

function lowerCase<T>(value: T): T {
  return (typeof value === 'string' ? value.toLowerCase() : value) as T;
}

/** A value as an error message shows it. */
export function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  // JSON would show NaN and Infinity as null.
  if (typeof value === 'number') return String(value);
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Cookie values longer than this are not ours: browsers cap a cookie near 4 KiB. */
const MAX_COOKIE_LENGTH = 4096;

/**
 * Every value the `Cookie` header carries under `name`, in order (a duplicated cookie gives
 * several). Reads only that cookie, without parsing the others; never throws.
 */
export function readCookie(header: string | string[] | undefined, name: string): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join('; ') : header;
  const values: string[] = [];
  let from = 0;
  while (from < text.length) {
    const at = text.indexOf(name, from);
    if (at === -1) break;
    from = at + name.length;
    // A match must be a whole cookie name: at the start of a pair, followed by '='.
    if (!isPairStart(text, at)) continue;
    let eq = from;
    while (text[eq] === ' ') eq++;
    if (text[eq] !== '=') continue;
    let end = text.indexOf(';', eq);
    if (end === -1) end = text.length;
    let value = text.slice(eq + 1, end).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    if (value.length > 0 && value.length <= MAX_COOKIE_LENGTH) {
      const decoded = decode(value);
      if (decoded !== undefined) values.push(decoded);
    }
    from = end;
  }
  return values;
}

function isPairStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && text[i] === ' ') i--;
  return i < 0 || text[i] === ';' || text[i] === ',';
}

function decode(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
