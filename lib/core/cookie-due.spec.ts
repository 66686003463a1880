import { cookieDue } from './request-session';

const incoming = { id: 'same', secretIndex: 0, value: 's:same.sig' };
const expiring = { expires: new Date(Date.now() + 60_000) };
const browserSession = { expires: null };

/** Whether a session this request wrote needs its cookie sent (RequestSession.commit). */
describe('cookieDue', () => {
  it('sends the cookie of a session the request came without (new, or no cookie)', () => {
    expect(cookieDue('new', undefined, browserSession)).toBe(true);
    expect(cookieDue('new', undefined, expiring)).toBe(true);
  });

  it('sends the cookie of a session that is not the one the cookie named (regenerated)', () => {
    expect(cookieDue('regenerated', incoming, browserSession)).toBe(true);
  });

  it('sends the cookie of the same session when it has an expiry, which moved with the write', () => {
    expect(cookieDue('same', incoming, expiring)).toBe(true);
  });

  it('does not re-send the browser-session cookie of the same session: the browser has it', () => {
    expect(cookieDue('same', incoming, browserSession)).toBe(false);
    expect(cookieDue('same', incoming, { expires: false })).toBe(false);
  });
});
