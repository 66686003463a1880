import { isoString, isoTime, utcString } from './date-text';

/** A seeded pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('date texts', () => {
  it("write what Date's own methods write, in and across seconds, for any date", () => {
    const next = random(20261202);
    const now = Date.now();
    const times = [0, -1, -999, -1000, -1001, 999, 1000, 8.64e15, -8.64e15, 253402300799999];
    for (let i = 0; i < 20_000; i++) {
      const roll = next();
      // Mostly runs within a few seconds of now (the cache's case), also any date at all.
      if (roll < 0.7) times.push(now + Math.floor(next() * 5_000));
      else if (roll < 0.9) times.push(Math.floor((next() - 0.5) * 2 * 8.64e15));
      else times.push(times[times.length - 1]! + Math.floor(next() * 3));
    }
    for (const ms of times) {
      const date = new Date(ms);
      expect([ms, isoString(date)]).toEqual([ms, date.toISOString()]);
      expect([ms, utcString(date)]).toEqual([ms, date.toUTCString()]);
    }
  });

  it('refuse an invalid date as Date does, and forget nothing they knew', () => {
    const valid = new Date(Date.now());
    expect(isoString(valid)).toBe(valid.toISOString());
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
    expect(utcString(new Date(Number.NaN))).toBe('Invalid Date');
    expect(isoString(valid)).toBe(valid.toISOString());
    expect(utcString(valid)).toBe(valid.toUTCString());
  });

  it('read an ISO text as Date.parse does, whatever the text', () => {
    const next = random(7);
    const now = Date.now();
    const texts: string[] = ['', 'Z', '2026-12-02T07:51:11.000Z', '2026-13-02T07:51:11.123Z'];
    const mutate = (text: string) => {
      const at = Math.floor(next() * text.length);
      const chars = '0123456789-:.TZ x+';
      return text.slice(0, at) + chars[Math.floor(next() * chars.length)] + text.slice(at + 1);
    };
    for (let i = 0; i < 20_000; i++) {
      const roll = next();
      const text = new Date(
        roll < 0.8 ? now + Math.floor(next() * 5_000) : Math.floor((next() - 0.5) * 1.7e16),
      ).toISOString();
      // Valid texts (mostly in the same few seconds), and texts with one character changed.
      texts.push(next() < 0.7 ? text : mutate(text));
    }
    for (const text of texts) expect([text, isoTime(text)]).toEqual([text, Date.parse(text)]);
  });
});
