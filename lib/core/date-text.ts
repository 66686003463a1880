/**
 * A date's ISO and HTTP texts, as `Date#toISOString()` and `Date#toUTCString()` write them, made
 * once per second. Formatting a Date costs more than the rest of a cookie's serialisation, and a
 * busy server writes expiries that fall in the same second thousands of times: each text keeps
 * the last second it formatted, and only the milliseconds are added to the ISO one.
 */

let isoSecond = Number.NaN;
/** `YYYY-MM-DDTHH:mm:ss.` of `isoSecond`. */
let isoPrefix = '';

/** `date.toISOString()`; throws the same `RangeError` for an invalid date. */
export function isoString(date: Date): string {
  const ms = date.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    if (Number.isNaN(ms)) return date.toISOString();
    // The text always ends in `.sssZ`, whatever the year's width.
    isoPrefix = date.toISOString().slice(0, -4);
    isoSecond = second;
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

let utcSecond = Number.NaN;
let utcText = '';

/** `date.toUTCString()` (an HTTP date: whole seconds). */
export function utcString(date: Date): string {
  const ms = date.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== utcSecond) {
    if (Number.isNaN(ms)) return date.toUTCString();
    utcText = date.toUTCString();
    utcSecond = second;
  }
  return utcText;
}

/** `YYYY-MM-DDTHH:mm:ss.` of the last ISO text read, and its second in ms (see `isoTime`). */
let readPrefix = '\0';
let readSecond = Number.NaN;

/**
 * `Date.parse(text)`, for the ISO texts stores hold (`cookie.expires`): a text of the same
 * second as the last one read costs a comparison and three digits. Anything else goes to
 * `Date.parse` whole.
 */
export function isoTime(text: string): number {
  if (text.length !== 24 || text.charCodeAt(19) !== DOT || text.charCodeAt(23) !== ZULU)
    return Date.parse(text);
  const hundreds = text.charCodeAt(20) - ZERO;
  const tens = text.charCodeAt(21) - ZERO;
  const units = text.charCodeAt(22) - ZERO;
  if (!(isDigit(hundreds) && isDigit(tens) && isDigit(units))) return Date.parse(text);
  if (!text.startsWith(readPrefix)) {
    readPrefix = text.slice(0, 20);
    // Invalid for one is invalid for the other: the milliseconds cannot make it valid.
    readSecond = Date.parse(`${readPrefix}000Z`);
  }
  return readSecond + hundreds * 100 + tens * 10 + units;
}

const [ZERO, DOT, ZULU] = [48, 46, 90];

function isDigit(value: number): boolean {
  return value >= 0 && value <= 9;
}
