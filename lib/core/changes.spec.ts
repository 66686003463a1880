import { SessionSerializationError } from './errors';
import { findChanges, snapshotOf } from './changes';
import type { SessionObject } from './session';

const asSession = (data: object) => data as unknown as SessionObject;
const snapshotFrom = (data: Record<string, unknown>) =>
  new Map(Object.entries(data).map(([k, v]) => [k, snapshotOf(v)]));

describe('findChanges', () => {
  it('finds changed, new, deleted and deeply changed keys, and nothing else', () => {
    const before = {
      same: { a: [1] },
      changed: 1,
      deep: { list: [1] },
      deleted: 'x',
      undefinedNow: 2,
    };
    const after = {
      same: { a: [1] },
      changed: 2,
      deep: { list: [1, 2] },
      added: true,
      undefinedNow: undefined,
    };
    const { set, unset } = findChanges(asSession(after), snapshotFrom(before));
    expect([...set.keys()]).toEqual(['changed', 'deep', 'added']);
    expect(unset.sort()).toEqual(['deleted', 'undefinedNow']);
  });

  it.each([
    [
      'a function',
      { f: () => 1 },
      'Session value "f" cannot be stored as JSON: a function has no JSON form',
    ],
    [
      'a Map',
      { m: new Map() },
      'Session value "m" cannot be stored as JSON: a Map would be stored as {}',
    ],
    [
      'a Set deep inside',
      { cart: { items: [new Set()] } },
      'Session value "cart.items[0]" cannot be stored as JSON: a Set would be stored as {}',
    ],
    ['NaN', { n: NaN }, 'Session value "n" cannot be stored as JSON: NaN would be stored as null'],
    [
      'a BigInt',
      { b: 1n },
      'Session value "b" cannot be stored as JSON: Do not know how to serialize a BigInt',
    ],
    [
      'a symbol in an object',
      { o: { s: Symbol('x') } },
      'Session value "o.s" cannot be stored as JSON: a symbol has no JSON form',
    ],
  ])('refuses %s with an error that says where and why', (_name, data, message) => {
    expect(() => findChanges(asSession(data), new Map())).toThrow(SessionSerializationError);
    expect(() => findChanges(asSession(data), new Map())).toThrow(message);
  });

  it('refuses a circular structure', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => findChanges(asSession({ loop }), new Map())).toThrow(
      'Session value "loop" cannot be stored as JSON',
    );
  });

  it('accepts Dates and plain nested data', () => {
    const { set } = findChanges(
      asSession({ at: new Date(0), nested: { a: [1, 'b', null, true] } }),
      new Map(),
    );
    expect([...set.keys()]).toEqual(['at', 'nested']);
  });
});

describe('findChanges on deeply nested values', () => {
  /** `levels` arrays, each inside the next; or objects with `{ a: … }`. */
  const nested = (levels: number, kind: 'array' | 'object' = 'array'): unknown => {
    let value: unknown = kind === 'array' ? [] : {};
    for (let i = 1; i < levels; i++) value = kind === 'array' ? [value] : { a: value };
    return value;
  };
  const tooDeep =
    'Session value "deep" cannot be stored as JSON: it is nested too deeply: a stored session may be at most 1000 levels deep';

  it('accepts a value that keeps the stored session at 1000 levels (the record itself is one)', () => {
    const { set } = findChanges(asSession({ deep: nested(999) }), new Map());
    expect([...set.keys()]).toEqual(['deep']);
  });

  it.each([
    ['one level more', nested(1000)],
    ['3000 levels of arrays', nested(3000)],
    ['3000 levels of objects', nested(3000, 'object')],
    ['200000 levels, more than JSON.stringify itself can take', nested(200_000)],
  ])('refuses %s with a SessionSerializationError, not a RangeError', (_name, deep) => {
    let error: unknown;
    try {
      findChanges(asSession({ deep }), new Map());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SessionSerializationError);
    expect((error as Error).message).toBe(tooDeep);
    expect((error as SessionSerializationError).path).toBe('deep');
  });
});
