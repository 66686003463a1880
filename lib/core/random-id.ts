import { randomFillSync } from 'node:crypto';

/** Bytes in an id: 256 bits of entropy, 43 URL-safe characters. */
const ID_BYTES = 32;
/** Ids drawn from one call to the CSPRNG. */
const IDS_PER_DRAW = 128;

// `crypto` costs about 2 µs a call whatever the size asked, so its bytes are drawn for 128 ids
// at a time (as `crypto.randomUUID()` does for its own); each byte goes into one id only.
const pool = Buffer.allocUnsafe(ID_BYTES * IDS_PER_DRAW);
let offset = pool.length;

/** A session id: 32 bytes from `crypto`, base64url. */
export function randomId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
