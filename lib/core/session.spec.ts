import { SessionReservedKeyError } from './errors';
import { SessionCookie } from './cookie';
import { RESERVED_KEYS, SessionObject, type SessionOwner } from './session';

function makeSession(): {
  session: SessionObject & Record<string, unknown>;
  cookie: SessionCookie;
} {
  const cookie = new SessionCookie(
    { originalMaxAge: 1000, expires: new Date(Date.now() + 1000) },
    false,
  );
  const owner: SessionOwner = {
    id: 'the-real-id',
    cookie,
    regenerate: async () => undefined,
    destroy: async () => undefined,
    reload: async () => undefined,
    save: async () => undefined,
    touch: () => undefined,
  };
  return { session: new SessionObject(owner) as SessionObject & Record<string, unknown>, cookie };
}

describe('SessionObject: reserved names', () => {
  it.each([...RESERVED_KEYS])(
    'refuses an assignment to "%s" with an error that names it',
    (key) => {
      const { session } = makeSession();
      const before = { id: session.id, cookie: session.cookie, save: session.save };
      expect(() => {
        session[key] = { id: 'attacker-chosen' };
      }).toThrow(new SessionReservedKeyError(key));
      expect(Object.keys(session)).toEqual([]);
      expect(session.id).toBe(before.id);
      expect(session.cookie).toBe(before.cookie);
      expect(session.save).toBe(before.save);
      expect(Object.getPrototypeOf(session)).toBe(SessionObject.prototype);
    },
  );

  it('Object.assign of parsed JSON with a __proto__ key cannot change the id or the prototype', () => {
    const { session } = makeSession();
    const body = JSON.parse('{"views":1,"__proto__":{"id":"attacker-chosen"}}') as object;
    expect(() => Object.assign(session, body)).toThrow(SessionReservedKeyError);
    expect(session.id).toBe('the-real-id');
    expect(Object.getPrototypeOf(session)).toBe(SessionObject.prototype);
  });

  it('Object.assign with a cookie or __fingerprint key is refused, and the cookie stays', () => {
    const { session, cookie } = makeSession();
    expect(() =>
      Object.assign(session, { cookie: { expires: '2099-01-01T00:00:00Z', httpOnly: false } }),
    ).toThrow('Session key "cookie" is reserved');
    expect(() => Object.assign(session, { __fingerprint: 'forged' })).toThrow(
      'Session key "__fingerprint" is reserved',
    );
    expect(session.cookie).toBe(cookie);
    expect(session.cookie.httpOnly).toBe(true);
    expect(Object.keys(session)).toEqual([]);
  });

  it('still reads its members and takes ordinary data keys', () => {
    const { session } = makeSession();
    session.views = 1;
    Object.assign(session, { toString: 'a data key that only shadows Object.prototype' });
    expect(typeof session.save).toBe('function');
    expect(session.constructor).toBe(SessionObject);
    expect(session.__fingerprint).toBeUndefined();
    expect(Object.keys(session)).toEqual(['views', 'toString']);
    expect(JSON.parse(JSON.stringify(session))).toEqual({
      views: 1,
      toString: 'a data key that only shadows Object.prototype',
    });
  });
});
