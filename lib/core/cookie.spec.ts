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

  it("writes sameSite 'auto' as None on a Secure cookie and Lax otherwise", () => {
    expect(serializeCookie('n', 'v', { sameSite: 'auto', secure: true })).toBe(
      'n=v; Secure; SameSite=None',
    );
    expect(serializeCookie('n', 'v', { sameSite: 'auto', secure: false })).toBe(
      'n=v; SameSite=Lax',
    );
    expect(serializeCookie('n', 'v', { sameSite: 'AUTO' as 'auto' })).toBe('n=v; SameSite=Lax');
  });
});

describe('SessionCookie: assigning what is already there is no change', () => {
  afterEach(() => jest.useRealTimers());
  const browserSession = () => new SessionCookie({ originalMaxAge: null, expires: null }, false);

  it.each([
    ['expires = null', (c: SessionCookie) => (c.expires = null)],
    ['expires = false', (c: SessionCookie) => (c.expires = false)],
    ['maxAge = null', (c: SessionCookie) => (c.maxAge = null)],
  ])('%s on a browser-session cookie', (_name, assign) => {
    const cookie = browserSession();
    assign(cookie);
    expect(cookie.changed).toBe(false);
    expect(cookie.maxAge).toBeNull();
    expect(cookie.toJSON()).toEqual(
      expect.objectContaining({ expires: null, originalMaxAge: null }),
    );
  });

  it('expires = a Date of the same instant, and nothing else, leaves the cookie unchanged', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const cookie = new SessionCookie(
      { originalMaxAge: 60_000, expires: '2026-01-01T00:01:00.000Z' },
      false,
    );
    jest.advanceTimersByTime(10_000);
    cookie.expires = new Date('2026-01-01T00:01:00Z');
    const same = cookie.expires;
    cookie.expires = same;
    expect(cookie.changed).toBe(false);
    expect(cookie.originalMaxAge).toBe(60_000);
    cookie.expires = new Date('2026-01-01T00:02:00Z');
    expect(cookie.changed).toBe(true);
  });

  it('a real change still counts: null on a dated cookie, a date on a browser-session one', () => {
    const dated = new SessionCookie(
      { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) },
      false,
    );
    dated.expires = null;
    expect(dated.changed).toBe(true);
    const session = browserSession();
    session.maxAge = 1_000;
    expect(session.changed).toBe(true);
    expect(session.originalMaxAge).toBe(1_000);
  });
});

describe('cookie attributes are checked', () => {
  const attributes = { path: '/', httpOnly: true, sameSite: 'lax' as const };

  it.each([
    [
      'an injected path',
      { path: '/; Domain=evil.example; SameSite=None' },
      'session.cookie.path must be a path starting with "/", without spaces, control characters or ";", got "/; Domain=evil.example; SameSite=None".',
    ],
    [
      'a CRLF in the path',
      { path: '/\r\nX-Injected: 1' },
      'session.cookie.path must be a path starting with "/", without spaces, control characters or ";", got "/\\r\\nX-Injected: 1".',
    ],
    [
      'a domain with ";"',
      { domain: 'example.test; Secure' },
      'session.cookie.domain must be a host name, got "example.test; Secure".',
    ],
    [
      'an unknown sameSite',
      { sameSite: 'sideways' },
      `session.cookie.sameSite must be 'lax', 'strict', 'none', 'auto', true or false, got "sideways".`,
    ],
    [
      'an unknown priority',
      { priority: 'urgent' },
      `session.cookie.priority must be 'low', 'medium' or 'high', got "urgent".`,
    ],
  ])('serializeCookie refuses %s with a TypeError naming it', (_name, bad, message) => {
    const call = () => serializeCookie('sid', 'v', { ...attributes, ...bad } as never);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new TypeError(message));
  });

  it('serializeCookie refuses a bad name, an invalid Date and a __Host- cookie with a Path or Domain', () => {
    expect(() => serializeCookie('a b', 'v', attributes)).toThrow(
      new TypeError(
        `Session cookie name must be a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~), got "a b".`,
      ),
    );
    expect(() => serializeCookie('sid', 'v', attributes, new Date(NaN))).toThrow(
      new TypeError('session.cookie.expires must be a valid Date, got an invalid Date.'),
    );
    expect(() => serializeCookie('__Host-sid', 'v', { ...attributes, path: '/app' })).toThrow(
      new TypeError('session.cookie.path must be "/" for a __Host- cookie, got "/app".'),
    );
    expect(() =>
      serializeCookie('__Host-sid', 'v', { ...attributes, domain: 'example.test' }),
    ).toThrow(
      new TypeError(
        'session.cookie.domain must be left out for a __Host- cookie, got "example.test".',
      ),
    );
    expect(serializeCookie('__Host-sid', 'v', { ...attributes, secure: true })).toBe(
      '__Host-sid=v; Path=/; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('serializeCookie normalises the case of sameSite and priority, never writing SameSite=undefined', () => {
    expect(
      serializeCookie('n', 'v', { sameSite: 'LAX' as 'lax', priority: 'High' as 'high' }),
    ).toBe('n=v; Priority=High; SameSite=Lax');
    expect(serializeCookie('n', 'v', { sameSite: 'None' as 'none' })).toBe('n=v; SameSite=None');
  });

  it("a handler's assignment is checked at once, and sameSite and priority normalised", () => {
    const cookie = new SessionCookie({ originalMaxAge: null, path: '/', sameSite: 'lax' }, false);
    cookie.sameSite = 'STRICT' as 'strict';
    cookie.priority = 'Low' as 'low';
    expect(cookie.sameSite).toBe('strict');
    expect(cookie.priority).toBe('low');
    expect(cookie.serialize('sid', 'v')).toBe(
      'sid=v; Path=/; HttpOnly; Priority=Low; SameSite=Strict',
    );
    expect(() => (cookie.path = '/; Domain=evil.example')).toThrow(
      new TypeError(
        'session.cookie.path must be a path starting with "/", without spaces, control characters or ";", got "/; Domain=evil.example".',
      ),
    );
    expect(() => (cookie.domain = 'a b')).toThrow(
      new TypeError('session.cookie.domain must be a host name, got "a b".'),
    );
    expect(() => (cookie.sameSite = 'sideways' as 'lax')).toThrow(
      new TypeError(
        `session.cookie.sameSite must be 'lax', 'strict', 'none', 'auto', true or false, got "sideways".`,
      ),
    );
    expect(() => (cookie.expires = new Date('not a date'))).toThrow(
      new TypeError(
        'session.cookie.expires must be a valid Date, null or false, got an invalid Date.',
      ),
    );
    expect(() => (cookie.maxAge = NaN)).toThrow(
      new TypeError(
        'session.cookie.maxAge must be a number of ms, or null for a browser-session cookie, got NaN.',
      ),
    );
    // Nothing bad was kept.
    expect(cookie.toJSON()).toEqual(
      expect.objectContaining({ path: '/', domain: undefined, sameSite: 'strict', expires: null }),
    );
    expect(cookie.changed).toBe(false);
    cookie.domain = 'example.test';
    cookie.domain = undefined;
    expect(cookie.domain).toBeUndefined();
  });

  it('a stored cookie is read as stored, its case normalised; what is bad in it is refused when sent', () => {
    const fromExpressSession = new SessionCookie(
      { originalMaxAge: null, path: '/', sameSite: 'Lax' as 'lax' },
      false,
    );
    expect(fromExpressSession.serialize('sid', 'v')).toBe('sid=v; Path=/; HttpOnly; SameSite=Lax');
    const tampered = new SessionCookie(
      { originalMaxAge: null, path: '/; Domain=evil.example' },
      false,
    );
    expect(() => tampered.serialize('sid', 'v')).toThrow(
      new TypeError(
        'session.cookie.path must be a path starting with "/", without spaces, control characters or ";", got "/; Domain=evil.example".',
      ),
    );
  });
});
