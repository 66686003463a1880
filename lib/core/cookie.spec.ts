import { readCookie, SessionCookie, serializeCookie } from './cookie';

describe('readCookie', () => {
  it('finds our cookie among others, and only a whole name', () => {
    expect(readCookie('a=1; connect.sid=s%3Aabc.def; b=2', 'connect.sid')).toEqual(['s:abc.def']);
    expect(readCookie('xconnect.sid=1; connect.sidx=2', 'connect.sid')).toEqual([]);
    expect(readCookie('connect.sid=1;connect.sid=2', 'connect.sid')).toEqual(['1', '2']);
    expect(readCookie('connect.sid="quoted"', 'connect.sid')).toEqual(['quoted']);
    expect(readCookie(undefined, 'connect.sid')).toEqual([]);
  });

  it('passes over what cannot be ours: bad percent-encoding, empty or oversized values', () => {
    expect(readCookie('connect.sid=%E0%A4%A', 'connect.sid')).toEqual([]);
    expect(readCookie('connect.sid=', 'connect.sid')).toEqual([]);
    expect(readCookie(`connect.sid=${'x'.repeat(5000)}`, 'connect.sid')).toEqual([]);
  });
});

describe('SessionCookie', () => {
  afterEach(() => jest.useRealTimers());

  it('maxAge reads the time remaining: 60000 set, 30 s later 30000, reset() back to 60000 (the seed’s example)', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const cookie = new SessionCookie(
      { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) },
      false,
    );
    expect(cookie.maxAge).toBe(60_000);
    jest.advanceTimersByTime(30_000);
    expect(cookie.maxAge).toBe(30_000);
    cookie.reset();
    expect(cookie.maxAge).toBe(60_000);
  });

  it('maxAge and expires are assignable and equivalent; false makes a browser-session cookie', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const cookie = new SessionCookie(
      { originalMaxAge: 1_000, expires: new Date(Date.now() + 1_000) },
      false,
    );
    cookie.maxAge = 3_600_000;
    expect(cookie.expires).toEqual(new Date('2026-01-01T01:00:00Z'));
    expect(cookie.originalMaxAge).toBe(3_600_000);
    cookie.expires = new Date('2026-01-01T00:30:00Z');
    expect(cookie.maxAge).toBe(1_800_000);
    expect(cookie.changed).toBe(true);
    cookie.expires = false;
    expect(cookie.expires).toBe(false);
    expect(cookie.maxAge).toBeNull();
    expect(cookie.toJSON()).toEqual(
      expect.objectContaining({ expires: null, originalMaxAge: null }),
    );
  });

  it('serialises every attribute', () => {
    expect(
      serializeCookie(
        'n',
        's:a b',
        {
          path: '/',
          domain: 'x.test',
          httpOnly: true,
          secure: true,
          sameSite: 'none',
          partitioned: true,
          priority: 'low',
        },
        new Date(0),
      ),
    ).toBe(
      'n=s%3Aa%20b; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=x.test; HttpOnly; Secure; Partitioned; Priority=Low; SameSite=None',
    );
    expect(serializeCookie('n', 'v', { sameSite: true })).toBe('n=v; SameSite=Strict');
    expect(serializeCookie('n', 'v', { sameSite: false })).toBe('n=v');
  });
});
