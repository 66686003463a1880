// Here rather than beside the signer: it checks against express-session's own signer, a package
// the core itself must never import (see test/layers.spec.ts).
import { CookieSigner } from '../../lib/core/signature';

// express-session signs with cookie-signature; checking against it proves the formats match.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cookieSignature = require('cookie-signature') as {
  sign(value: string, secret: string): string;
  unsign(value: string, secret: string): string | false;
};

describe('CookieSigner', () => {
  const signer = new CookieSigner(['new', 'old']);

  it('signs exactly as express-session does', () => {
    expect(signer.sign('abc')).toBe(`s:${cookieSignature.sign('abc', 'new')}`);
    expect(cookieSignature.unsign(signer.sign('abc').slice(2), 'new')).toBe('abc');
  });

  it('verifies with every secret and says which one matched', () => {
    const withNew = `s:${cookieSignature.sign('abc', 'new')}`;
    const withOld = `s:${cookieSignature.sign('abc', 'old')}`;
    expect(signer.verify(withNew)).toEqual({ id: 'abc', secretIndex: 0, value: withNew });
    expect(signer.verify(withOld)).toEqual({ id: 'abc', secretIndex: 1, value: withOld });
  });

  it('a value verified with the first secret is exactly what sign() makes: it needs no new HMAC', () => {
    const value = signer.sign('abc');
    expect(signer.verify(value)).toEqual({ id: 'abc', secretIndex: 0, value });
  });

  it.each([
    ['another secret', `s:${cookieSignature.sign('abc', 'other')}`],
    ['no s: prefix', cookieSignature.sign('abc', 'new')],
    ['no signature', 's:abc'],
    ['an empty id', `s:.${cookieSignature.sign('', 'new').slice(1)}`],
    ['a truncated signature', `s:${cookieSignature.sign('abc', 'new')}`.slice(0, -1)],
    ['a longer signature', `s:${cookieSignature.sign('abc', 'new')}A`],
    [
      'the URL-safe alphabet',
      `s:${cookieSignature.sign('x', 'new').replace(/\+/g, '-').replace(/\//g, '_')}`,
    ],
    ['an id with a dot moved', `s:ab.c${cookieSignature.sign('abc', 'new').slice(3)}`],
  ])('rejects %s', (_name, value) => {
    expect(signer.verify(value)).toBeUndefined();
  });
});
