import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Signs and verifies the session-id cookie exactly as express-session does
 * (`s:` + id + `.` + base64 HMAC-SHA256 of the id without `=` padding), so that cookies move
 * between the two libraries.
 */
export class CookieSigner {
  private readonly keys: readonly KeyObject[];
  /**
   * The signature each recently verified id has, and under which secret: a session's every
   * request carries the same cookie, so its HMAC need not be computed again. Keyed by the id and
   * still compared in constant time, so the lookup tells nothing about a forged signature.
   * Oldest first, at most `KNOWN_IDS` (about 0.5 MB).
   */
  private readonly known = new Map<string, KnownSignature>();

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
    const known = this.known.get(id);
    // Anything else is checked in full: the same id may come signed by another secret.
    if (known !== undefined && timingSafeEqual(known.mac, given) && known.text === signature)
      return { id, secretIndex: known.secretIndex, value };
    for (let i = 0; i < this.keys.length; i++) {
      const mac = createHmac('sha256', this.keys[i]!).update(id).digest();
      if (timingSafeEqual(mac, given)) {
        // base64 decoding forgives other alphabets and stray bits: take the canonical text only,
        // as express-session's string comparison does.
        const text = mac.toString('base64').slice(0, 43);
        if (text !== signature) return undefined;
        this.remember(id, { mac, text, secretIndex: i });
        return { id, secretIndex: i, value };
      }
    }
    return undefined;
  }

  private remember(id: string, signature: KnownSignature): void {
    if (this.known.size >= KNOWN_IDS) this.known.delete(this.known.keys().next().value!);
    this.known.set(id, signature);
  }
}

/** How many verified ids the signer remembers. */
const KNOWN_IDS = 2048;

interface KnownSignature {
  readonly mac: Buffer;
  /** The canonical base64 text of `mac`, unpadded: the only spelling accepted. */
  readonly text: string;
  readonly secretIndex: number;
}

function mac(key: KeyObject, id: string): string {
  return createHmac('sha256', key).update(id).digest('base64').replace(/=+$/, '');
}
