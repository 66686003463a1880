import { resolveSessionOptions, type SessionOptions } from './options';
import type { SessionStore } from './session-store';

// The options only check that a store has its three required methods.
const store: SessionStore = { get: async () => null, set: async () => {}, destroy: async () => {} };
const resolve = (options: Partial<SessionOptions>) =>
  resolveSessionOptions({ secret: 's', store, ...options } as SessionOptions);

describe('resolveSessionOptions: cookie options are checked', () => {
  const PATH_RULE = 'must be a path starting with "/", without spaces, control characters or ";"';
  const NAME_RULE = "must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)";

  it.each<[string, Partial<SessionOptions>, string]>([
    [
      'a name with a space',
      { name: 'my sid' },
      `Session option "name" ${NAME_RULE}, got "my sid".`,
    ],
    ['a name with ";"', { name: 'sid;' }, `Session option "name" ${NAME_RULE}, got "sid;".`],
    [
      'a key (the alias) with a space',
      { key: 'my sid' },
      `Session option "key" ${NAME_RULE}, got "my sid".`,
    ],
    [
      'an attribute injected through the path',
      { cookie: { path: '/; Domain=evil.example; SameSite=None' } },
      `Session option "cookie.path" ${PATH_RULE}, got "/; Domain=evil.example; SameSite=None".`,
    ],
    [
      'a CRLF in the path',
      { cookie: { path: '/\r\nSet-Cookie: x=1' } },
      `Session option "cookie.path" ${PATH_RULE}, got "/\\r\\nSet-Cookie: x=1".`,
    ],
    [
      'a space in the path',
      { cookie: { path: '/my app' } },
      `Session option "cookie.path" ${PATH_RULE}, got "/my app".`,
    ],
    [
      'a relative path',
      { cookie: { path: 'app' } },
      `Session option "cookie.path" ${PATH_RULE}, got "app".`,
    ],
    [
      'a domain with ";"',
      { cookie: { domain: 'example.test; Secure' } },
      'Session option "cookie.domain" must be a host name, got "example.test; Secure".',
    ],
    [
      'a domain with a space',
      { cookie: { domain: 'example .test' } },
      'Session option "cookie.domain" must be a host name, got "example .test".',
    ],
    [
      'an unknown sameSite',
      { cookie: { sameSite: 'sideways' as 'lax' } },
      `Session option "cookie.sameSite" must be 'lax', 'strict', 'none', 'auto', true or false, got "sideways".`,
    ],
    [
      'an unknown priority',
      { cookie: { priority: 'urgent' as 'low' } },
      `Session option "cookie.priority" must be 'low', 'medium' or 'high', got "urgent".`,
    ],
    [
      'an invalid Date as expires',
      { cookie: { expires: new Date(NaN) } },
      'Session option "cookie.expires" must be a valid Date, or null, got an invalid Date.',
    ],
    [
      'a string as expires',
      { cookie: { expires: 'tomorrow' as unknown as Date } },
      'Session option "cookie.expires" must be a valid Date, or null, got "tomorrow".',
    ],
    [
      'a maxAge past the last date there is',
      { cookie: { maxAge: 1e20 } },
      'Session option "cookie.maxAge" must be a number of ms >= 0, or null for a browser-session cookie, got 100000000000000000000.',
    ],
    [
      'a non-boolean partitioned',
      { cookie: { partitioned: 'yes' as unknown as boolean } },
      'Session option "cookie.partitioned" must be true or false, got "yes".',
    ],
    [
      'a __Host- name that is not Secure',
      { name: '__Host-sid', cookie: { secure: false } },
      `Session option "cookie.secure" must be true or 'auto' for a cookie named "__Host-sid" (browsers drop a __Host- cookie otherwise), got false.`,
    ],
    [
      'a __Host- name with another path',
      { name: '__Host-sid', cookie: { path: '/app' } },
      'Session option "cookie.path" must be "/" for a cookie named "__Host-sid" (browsers drop a __Host- cookie otherwise), got "/app".',
    ],
    [
      'a __Host- name with a domain (the prefix in any case)',
      { name: '__HOST-sid', cookie: { domain: 'example.test' } },
      'Session option "cookie.domain" must be left out for a cookie named "__HOST-sid" (browsers drop a __Host- cookie otherwise), got "example.test".',
    ],
    [
      'a __Secure- name that is not Secure',
      { key: '__Secure-sid', cookie: { secure: false } },
      `Session option "cookie.secure" must be true or 'auto' for a cookie named "__Secure-sid" (browsers drop a __Secure- cookie otherwise), got false.`,
    ],
  ])('refuses %s, naming the option', (_name, options, message) => {
    expect(() => resolve(options)).toThrow(TypeError);
    expect(() => resolve(options)).toThrow(new TypeError(message));
  });

  it("normalises sameSite and priority to lower case at start-up ('LAX' is 'lax')", () => {
    const { cookie } = resolve({
      cookie: { sameSite: 'LAX' as 'lax', priority: 'High' as 'high' },
    });
    expect(cookie.sameSite).toBe('lax');
    expect(cookie.priority).toBe('high');
    expect(resolve({ cookie: { sameSite: 'None' as 'none' } }).cookie.sameSite).toBe('none');
    expect(resolve({ cookie: { sameSite: true } }).cookie.sameSite).toBe(true);
    expect(resolve({ cookie: { sameSite: false } }).cookie.sameSite).toBe(false);
  });

  it('accepts valid names, paths and domains, and the prefixes with what they require', () => {
    expect(resolve({ name: '__Host-sid' }).cookie).toEqual(
      expect.objectContaining({ path: '/', domain: undefined, secure: 'auto' }),
    );
    expect(
      resolve({ name: '__Secure-sid', cookie: { path: '/app', domain: 'example.test' } }).name,
    ).toBe('__Secure-sid');
    expect(
      resolve({ cookie: { path: "/a-b_c.d~e/%20/x=y:z@!$&'()*+,", domain: '.example.test' } })
        .cookie,
    ).toEqual(
      expect.objectContaining({ path: "/a-b_c.d~e/%20/x=y:z@!$&'()*+,", domain: '.example.test' }),
    );
    const expires = new Date(Date.now() + 60_000);
    expect(resolve({ cookie: { expires } }).cookie).toEqual(
      expect.objectContaining({ expires, maxAge: null }),
    );
    expect(resolve({ cookie: { expires: null } }).cookie.expires).toBeNull();
  });
});

describe('resolveSessionOptions: a user index, timeouts and the session header', () => {
  class PlainStore {
    get = async () => null;
    set = async () => {};
    destroy = async () => {};
  }
  const indexed: SessionStore = {
    ...store,
    findByUser: async () => [],
    destroyByUser: async () => 0,
  };

  it.each<[string, Partial<SessionOptions>, string]>([
    [
      'userId with a store that keeps no per-user index',
      { store: new PlainStore(), userId: () => 'u' },
      'Session option "userId" needs a store with a per-user index (findByUser() and destroyByUser()); PlainStore has none.',
    ],
    [
      'userId that is not a function',
      { store: indexed, userId: 'passport.user' as never },
      'Session option "userId" must be a function of the session, got "passport.user".',
    ],
    [
      'an idleTimeout of 0',
      { idleTimeout: 0 },
      'Session option "idleTimeout" must be a number of ms > 0, got 0.',
    ],
    [
      'an absoluteTimeout given as text',
      { absoluteTimeout: '8h' as never },
      'Session option "absoluteTimeout" must be a number of ms > 0, got "8h".',
    ],
    [
      'a touchAfter as long as the idleTimeout',
      { idleTimeout: 60_000, touchAfter: 60_000 },
      'Session option "touchAfter" must be shorter than idleTimeout (60000 ms), or a session in use would end as idle, got 60000.',
    ],
    [
      'a header name with a space',
      { header: 'X Session' },
      'Session option "header" must be an HTTP header name (letters, digits, - and the like), got "X Session".',
    ],
    [
      'the Cookie header as the session header',
      { header: 'Cookie' },
      'Session option "header" cannot be "Cookie", which HTTP itself uses.',
    ],
  ])('refuses %s, naming the option', (_name, options, message) => {
    expect(() => resolve(options)).toThrow(new TypeError(message));
  });

  it('counts the default touchAfter from the shorter of cookie.maxAge and idleTimeout', () => {
    expect(resolve({ cookie: { maxAge: 3_600_000 } }).touchAfter).toBe(360_000);
    expect(resolve({ cookie: { maxAge: 3_600_000 }, idleTimeout: 600_000 }).touchAfter).toBe(
      60_000,
    );
    expect(resolve({ cookie: { maxAge: 60_000 }, idleTimeout: 600_000 }).touchAfter).toBe(6_000);
    expect(resolve({ cookie: { maxAge: null }, idleTimeout: 600_000 }).touchAfter).toBe(60_000);
  });

  it('keeps the header name for the response and its lower case for the request', () => {
    const { header, headerKey } = resolve({ header: 'X-Session-Token' });
    expect([header, headerKey]).toEqual(['X-Session-Token', 'x-session-token']);
    expect(resolve({}).headerKey).toBeUndefined();
  });

  it('accepts userId with a store that has both index methods', () => {
    const userId = () => 'u';
    expect(resolve({ store: indexed, userId }).userId).toBe(userId);
  });
});
