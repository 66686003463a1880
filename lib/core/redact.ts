/**
 * How a session id appears in a log line or an error: its first six characters. Enough to tell
 * two sessions apart while debugging, far too little to use: the id is a bearer secret.
 */
export function redact(sid: string): string {
  return `${sid.slice(0, 6)}…`;
}
