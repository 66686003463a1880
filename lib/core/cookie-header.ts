// Reading the one cookie that is ours out of a request's `Cookie` header.

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
