import type { DataSource } from 'typeorm';
import type { RowChange } from './session-table';

// The SQL that merges a change into the stored JSON inside the database, in one statement that
// no concurrent write can make fail, on each database that can do it.

/** How the database merges JSON in one statement, if the store knows how. */
export type Dialect = 'postgres' | 'sqlite' | undefined;

/** SQLite functions take at most 127 arguments by default: nest calls of this many keys each. */
const SQLITE_KEYS_PER_CALL = 50;

/** What JSON.stringify writes for the characters jsonb refuses: NUL and lone surrogates. */
const JSONB_REFUSES = /\\u0000|\\ud[89a-f]/;

/**
 * The expression a patch's UPDATE sets the data column to, and its parameters; `undefined` when
 * this database cannot merge this change by itself (see `SessionTable.merge`).
 */
export function mergeExpression(
  dialect: Dialect,
  dataColumn: string,
  change: RowChange,
): { expression: string; parameters: Record<string, unknown> } | undefined {
  let data: string;
  const parameters: Record<string, unknown> = {};
  if (change.set.length === 0 && change.unset.length === 0) {
    data = dataColumn; // nothing to merge: the data stays byte for byte as it is
  } else if (dialect === 'postgres') {
    const set = `{${change.set.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}`;
    // jsonb refuses a NUL (JSON.stringify writes \u0000) and a lone surrogate (\ud800 to
    // \udfff), and a text[] element cannot hold a NUL.
    if (JSONB_REFUSES.test(set) || change.unset.some((key) => key.includes('\0'))) return undefined;
    // `-` deletes top-level keys, `||` then replaces them one by one (no deep merge). The column
    // stays text (existing apps have the table): cast there and back.
    data = `CAST((CAST(${dataColumn} AS jsonb) - CAST(:unset AS text[])) || CAST(:set AS jsonb) AS text)`;
    Object.assign(parameters, { unset: change.unset, set });
  } else if (dialect === 'sqlite') {
    const keys = [...change.unset, ...change.set.map(([key]) => key)];
    if (!keys.every(isSafeLabel)) return undefined;
    const path = (key: string) => `$."${key}"`;
    let i = 0;
    const param = (value: string) => {
      const name = `m${i++}`;
      parameters[name] = value;
      return `:${name}`;
    };
    data = dataColumn;
    for (const keys of chunks(change.unset, SQLITE_KEYS_PER_CALL)) {
      data = `json_remove(${data}, ${keys.map((key) => param(path(key))).join(', ')})`;
    }
    for (const pairs of chunks(change.set, SQLITE_KEYS_PER_CALL)) {
      // json() makes the value JSON rather than a string; json_set replaces a key whole.
      const args = pairs.map(([key, json]) => `${param(path(key))}, json(${param(json)})`);
      data = `json_set(${data}, ${args.join(', ')})`;
    }
  } else {
    return undefined;
  }
  return { expression: data, parameters };
}

export function dialectOf(driver: DataSource['driver']): Dialect {
  const type = String(driver.options.type);
  if (type === 'postgres') return 'postgres';
  if (
    [
      'sqlite',
      'better-sqlite3',
      'sqljs',
      'capacitor',
      'cordova',
      'expo',
      'nativescript',
      'react-native',
    ].includes(type)
  )
    return 'sqlite';
  return undefined;
}

/**
 * Whether SQLite finds `key` as the label `$."key"`: SQLite has no escape inside a quoted label,
 * so only keys JSON writes as they are (no quote, backslash or control character) and not empty
 * (which older SQLite releases reject) are safe.
 */
function isSafeLabel(key: string): boolean {
  return key !== '' && JSON.stringify(key) === `"${key}"`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
