import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Signs and verifies the session-id cookie exactly as express-session does
 * (`s:` + id + `.` + base64 HMAC-SHA256 of the id without `=` padding), so that cookies move
 * between the two libraries.
 */
export class CookieSigner {
  private readonly keys: readonly KeyObject[];

  /** @param secrets the first signs; every one verifies (rotation). */
  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  /** The cookie value for `id`, before URL-encoding. */
  sign(id: string): string {
    return `s:${id}.${mac(this.keys[0]!, id)}`;
  }

  /**
   * The id a signed cookie value carries, with the index of the secret that verified it (and the
   * value itself: with secret 0 it is exactly what `sign(id)` makes, so it need not be signed
   * again), or `undefined` for anything that is not a value we signed. Never throws.
   */
  verify(value: string): { id: string; secretIndex: number; value: string } | undefined {
    if (!value.startsWith('s:')) return undefined;
    const dot = value.lastIndexOf('.');
    if (dot <= 2) return undefined;
    const signature = value.slice(dot + 1);
    // 32 bytes in unpadded base64 are 43 characters: anything else is not our signature.
    if (signature.length !== 43) return undefined;
    const given = Buffer.from(signature, 'base64');
    if (given.length !== 32) return undefined;
    const id = value.slice(2, dot);
    for (let i = 0; i < this.keys.length; i++) {
      if (timingSafeEqual(createHmac('sha256', this.keys[i]!).update(id).digest(), given)) {
        // base64 decoding forgives other alphabets and stray bits: take the canonical text only,
        // as express-session's string comparison does.
        return given.toString('base64').startsWith(signature)
          ? { id, secretIndex: i, value }
          : undefined;
      }
    }
    return undefined;
  }
}

function mac(key: KeyObject, id: string): string {
  return createHmac('sha256', key).update(id).digest('base64').replace(/=+$/, '');
}
