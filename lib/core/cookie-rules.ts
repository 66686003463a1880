import type { CookiePriority, SameSiteOption } from './cookie';

// The rules a cookie's name and attributes follow: the same at start-up (the options), when a
// handler assigns one, and for every Set-Cookie written.

/** Called with what is wrong with a value; throws an error that names where the value came from. */
export type Failure = (problem: string) => never;

// RFC 6265 token characters: what a cookie name may contain.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265's path-value (any CHAR but controls and ";"), less the space, after a leading "/".
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;
// A host name: dot-separated labels of letters, digits and "-", with an optional leading dot.
const COOKIE_DOMAIN = /^\.?[a-z0-9-]+(?:\.[a-z0-9-]+)*$/i;
export const SAME_SITE: Readonly<Record<string, string>> = {
  lax: 'Lax',
  strict: 'Strict',
  none: 'None',
};
export const PRIORITY: Readonly<Record<string, string>> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
};

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
    if (typeof lower === 'string' && (Object.hasOwn(SAME_SITE, lower) || lower === 'auto'))
      return lower as SameSiteOption;
    return fail(`must be 'lax', 'strict', 'none', 'auto', true or false, got ${show(value)}`);
  },
  priority(value: unknown, fail: Failure): CookiePriority | undefined {
    if (value === undefined) return value;
    const lower = lowerCase(value);
    if (typeof lower === 'string' && Object.hasOwn(PRIORITY, lower)) return lower as CookiePriority;
    return fail(`must be 'low', 'medium' or 'high', got ${show(value)}`);
  },
};

export function lowerCase<T>(value: T): T {
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
