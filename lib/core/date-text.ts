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
