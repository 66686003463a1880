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

  describe('once an id has been verified (it is remembered, not signed again)', () => {
    const remembering = new CookieSigner(['new', 'old']);
    const valid = `s:${cookieSignature.sign('seen', 'new')}`;
    beforeAll(() => expect(remembering.verify(valid)).toBeDefined());

    it('verifies the same value again', () => {
      expect(remembering.verify(valid)).toEqual({ id: 'seen', secretIndex: 0, value: valid });
    });

    it('still refuses a forged signature for that id', () => {
      const forged = `s:${cookieSignature.sign('seen', 'other')}`;
      expect(remembering.verify(forged)).toBeUndefined();
      const flipped = valid.slice(0, -2) + (valid.at(-2) === 'A' ? 'B' : 'A') + valid.at(-1);
      expect(remembering.verify(flipped)).toBeUndefined();
    });

    it('still refuses another spelling of the same signature bytes', () => {
      // The last base64 character carries 2 spare bits: flipping them keeps the bytes.
      const last = valid.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const other = alphabet[alphabet.indexOf(last) ^ 1]!;
      const respelled = valid.slice(0, -1) + other;
      expect(Buffer.from(respelled.split('.')[1]!, 'base64')).toEqual(
        Buffer.from(valid.split('.')[1]!, 'base64'),
      );
      expect(remembering.verify(respelled)).toBeUndefined();
    });

    it('still accepts that id signed by an older secret, and says which', () => {
      const withOld = `s:${cookieSignature.sign('seen', 'old')}`;
      expect(remembering.verify(withOld)).toEqual({ id: 'seen', secretIndex: 1, value: withOld });
      expect(remembering.verify(valid)?.secretIndex).toBe(0);
    });
  });
});
