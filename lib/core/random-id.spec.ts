import { randomId } from './random-id';

describe('randomId', () => {
  it('gives 43 base64url characters that decode to 32 bytes', () => {
    for (let i = 0; i < 300; i++) {
      const id = randomId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    }
  });

  it('never gives an id twice, nor a byte string twice, across many draws from crypto', () => {
    // 10,000 ids span 79 draws of 128: a pool that was not refilled, or refilled with what it
    // held, repeats ids; one whose slices overlap repeats 16-byte halves.
    const ids = new Set<string>();
    const halves = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const bytes = Buffer.from(randomId(), 'base64url');
      ids.add(bytes.toString('hex'));
      halves.add(bytes.subarray(0, 16).toString('hex'));
      halves.add(bytes.subarray(16).toString('hex'));
    }
    expect(ids.size).toBe(10_000);
    expect(halves.size).toBe(20_000);
  });

  it('draws bytes that look random: each bit is set about half the time', () => {
    const ones = new Array<number>(256).fill(0);
    const n = 4_000;
    for (let i = 0; i < n; i++) {
      const bytes = Buffer.from(randomId(), 'base64url');
      for (let bit = 0; bit < 256; bit++) if (bytes[bit >> 3]! & (1 << (bit & 7))) ones[bit]!++;
    }
    // Binomial(4000, 0.5): sd ≈ 32; 7 sd either side fails a fixed bit (a zeroed pool, say)
    // and passes a working generator all but never.
    for (const count of ones) expect(Math.abs(count - n / 2)).toBeLessThan(7 * 32);
  });
});
