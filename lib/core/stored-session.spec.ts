import { applyChange, type StoredSession } from './stored-session';

describe('applyChange', () => {
  const record = (): StoredSession =>
    JSON.parse('{"keep":1,"drop":2,"cookie":{"originalMaxAge":null}}') as StoredSession;

  it('sets the changed keys, deletes the unset ones, and leaves the record it was given alone', () => {
    const current = record();
    const merged = applyChange(current, {
      set: { add: [1] },
      unset: ['drop'],
      session: current,
      base: null,
    });
    expect(merged).toEqual({ keep: 1, add: [1], cookie: { originalMaxAge: null } });
    expect(current).toEqual(record());
  });

  it('keeps a key named __proto__ as a key, never as the prototype', () => {
    const current = record();
    const set = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const merged = applyChange(current, { set, unset: [], session: current, base: null });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(merged))).toEqual(
      JSON.parse(
        '{"keep":1,"drop":2,"cookie":{"originalMaxAge":null},"__proto__":{"polluted":true}}',
      ),
    );
  });
});
