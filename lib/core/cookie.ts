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
  priority?: 'low' | 'medium' | 'high';
}

/**
 * One session's cookie: its attributes and its expiry. `maxAge` reads the time remaining and
 * can be assigned, as connect's did; `expires` is a `Date`, or `null`/`false` for a
 * browser-session cookie.
 *
 * @publicApi
 */
export class SessionCookie {
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  secure: boolean;
  sameSite: SameSiteOption | undefined;
  partitioned: boolean | undefined;
  priority: 'low' | 'medium' | 'high' | undefined;
  /** The lifetime the cookie was given, in ms (`null`: browser session). */
  originalMaxAge: number | null;
  private expiry: Date | null | false;
  /** Whether the handler changed the expiry this request (so it must be stored and sent). */
  changed = false;

  constructor(fields: Omit<StoredCookie, 'secure'>, secure: boolean) {
    this.path = fields.path ?? '/';
    this.domain = fields.domain;
    this.httpOnly = fields.httpOnly ?? true;
    this.secure = secure;
    this.sameSite = fields.sameSite;
    this.partitioned = fields.partitioned;
    this.priority = fields.priority;
    this.originalMaxAge = fields.originalMaxAge ?? null;
    const expires = fields.expires;
    this.expiry = expires ? new Date(expires) : null;
  }

  /** When the session expires, or `null`/`false` for a browser-session cookie. */
  get expires(): Date | null | false {
    return this.expiry;
  }

  set expires(date: Date | null | false) {
    this.expiry = date ? new Date(date) : date;
    this.originalMaxAge = this.maxAge;
    this.changed = true;
  }

  /** Milliseconds until the session expires (`null` for a browser-session cookie). */
  get maxAge(): number | null {
    return this.expiry ? this.expiry.getTime() - Date.now() : null;
  }

  set maxAge(ms: number | null) {
    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : null;
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
  priority?: 'low' | 'medium' | 'high';
}

const SAME_SITE: Record<string, string> = {
  lax: 'Lax',
  strict: 'Strict',
  none: 'None',
  true: 'Strict',
};
const PRIORITY: Record<string, string> = { low: 'Low', medium: 'Medium', high: 'High' };

/** Builds a `Set-Cookie` value. `value` is URL-encoded here, as express-session does. */
export function serializeCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
  expires?: Date,
): string {
  let header = `${name}=${encodeURIComponent(value)}`;
  if (attributes.path) header += `; Path=${attributes.path}`;
  if (expires) header += `; Expires=${expires.toUTCString()}`;
  if (attributes.domain) header += `; Domain=${attributes.domain}`;
  if (attributes.httpOnly) header += '; HttpOnly';
  if (attributes.secure) header += '; Secure';
  if (attributes.partitioned) header += '; Partitioned';
  if (attributes.priority) header += `; Priority=${PRIORITY[attributes.priority]}`;
  if (attributes.sameSite) header += `; SameSite=${SAME_SITE[String(attributes.sameSite)]}`;
  return header;
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
