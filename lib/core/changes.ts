import { SessionSerializationError } from './errors';
import { dataOf, RESERVED_KEYS, type SessionObject } from './session';

/** A data key this request wrote, with the JSON text it had when compared. */
export interface ChangedValue {
  value: unknown;
  json: string;
}

/**
 * What each data key held when the session was loaded or last written: a primitive as itself,
 * compared with `===`, and anything else as its JSON text (a change deep inside an object shows
 * only there). A primitive costs no JSON at load or at commit.
 */
export type Snapshot = Map<string, Snapshotted>;
type Snapshotted = string | number | boolean | null | JsonText;

/** An object's JSON text in a snapshot, kept apart from a string value. */
class JsonText {
  constructor(readonly json: string) {}
}

/** What the snapshot keeps of `value`; `json` is its JSON text when it is already known. */
export function snapshotOf(value: unknown, json?: string): Snapshotted {
  return isPrimitive(value) ? value : new JsonText(json ?? JSON.stringify(value));
}

function isPrimitive(value: unknown): value is string | number | boolean | null {
  const type = typeof value;
  return value === null || type === 'string' || type === 'number' || type === 'boolean';
}

/** What a request did to a session's data, found by comparing it with its snapshot. */
export interface SessionChanges {
  set: Map<string, ChangedValue>;
  unset: string[];
}

/**
 * Compares each data key's JSON text with the snapshot taken when the session was loaded (or
 * last written), so a change deep inside a value (`session.cart.items.push(…)`) is found too.
 * A changed value is checked for what JSON would drop or mangle without a word, and refused
 * with a `SessionSerializationError`: a lost write must never look like a success.
 */
export function findChanges(
  session: SessionObject,
  snapshot: ReadonlyMap<string, Snapshotted>,
): SessionChanges {
  const data = dataOf(session);
  const set = new Map<string, ChangedValue>();
  const unset: string[] = [];
  for (const key of Object.keys(data)) {
    const value = data[key];
    // A reserved name is never data: only an own `cookie` (see `exposeCookie`) can show here.
    if (value === undefined || RESERVED_KEYS.has(key)) continue;
    const before = snapshot.get(key);
    // NaN is never equal to itself: it goes on to be refused below, as JSON would store null.
    if (before === value && isPrimitive(value)) continue;
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      // V8's JSON.stringify overflows the stack some thousands of levels down: far past MAX_DEPTH.
      const reason = isStackOverflow(err)
        ? TOO_DEEP
        : err instanceof Error
          ? err.message
          : String(err);
      throw new SessionSerializationError(key, reason);
    }
    if (json === undefined)
      throw new SessionSerializationError(key, `a ${typeof value} has no JSON form`);
    if (before instanceof JsonText && json === before.json) continue;
    assertStorable(value, key);
    set.set(key, { value, json });
  }
  for (const key of snapshot.keys()) {
    if (data[key] === undefined) unset.push(key);
  }
  return { set, unset };
}

/**
 * How deep a stored session may nest, counting the record itself (a data key's object is at
 * level 2). Redis's Lua cjson, which RedisStore's scripts decode records with, refuses anything
 * deeper than 1000 levels; and a limit keeps the recursion below far from the stack's end.
 */
const MAX_DEPTH = 1000;
const TOO_DEEP = `it is nested too deeply: a stored session may be at most ${MAX_DEPTH} levels deep`;

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/** Throws for any value that JSON cannot hold as it is. */
function assertStorable(value: unknown, path: string, key = path, depth = 2): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new SessionSerializationError(path, `${value} would be stored as null`);
      return;
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new SessionSerializationError(path, `a ${typeof value} has no JSON form`);
    case 'undefined':
      throw new SessionSerializationError(path, 'undefined in an array would be stored as null');
  }
  if (value === null) return;
  // Dates, Buffers and the like say themselves how they are stored.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
  if (
    value instanceof Map ||
    value instanceof Set ||
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    value instanceof Promise
  ) {
    throw new SessionSerializationError(path, `a ${value.constructor.name} would be stored as {}`);
  }
  // Named by its data key: the path down to where it gets too deep is too long to read.
  if (depth > MAX_DEPTH) throw new SessionSerializationError(key, TOO_DEEP);
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertStorable(item, `${path}[${index}]`, key, depth + 1));
    return;
  }
  for (const name of Object.keys(value as object)) {
    const item = (value as Record<string, unknown>)[name];
    // An undefined property is simply absent in JSON, as it is to the reader: nothing is lost.
    if (item !== undefined) assertStorable(item, `${path}.${name}`, key, depth + 1);
  }
}
