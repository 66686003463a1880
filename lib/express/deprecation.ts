const given = new Set<string>();

/**
 * Says once per process that `message` is deprecated, as Node's own deprecations do: a
 * `DeprecationWarning` through `process.emitWarning`, so that `--no-deprecation`,
 * `--throw-deprecation`, `--trace-deprecation` and `process.on('warning')` all apply. The
 * messages are express-session's own (it says them through `depd`), so that an app moving over
 * recognises them.
 */
export function deprecated(code: string, message: string): void {
  if (given.has(code)) return;
  given.add(code);
  process.emitWarning(message, { type: 'DeprecationWarning', code });
}
