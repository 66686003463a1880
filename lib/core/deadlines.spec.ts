import { Deadlines } from './deadlines';

describe('Deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('expires, in order, the calls that did not settle in time, on one timer', () => {
    const deadlines = new Deadlines(100);
    const expired: string[] = [];
    const first = deadlines.start(() => expired.push('first'));
    jest.advanceTimersByTime(40);
    const second = deadlines.start(() => expired.push('second'));
    deadlines.start(() => expired.push('third'));
    expect(deadlines.settle(second)).toBe(true);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(59);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['first']);
    // Expired: its answer, should it come now, is not taken.
    expect(deadlines.settle(first)).toBe(false);
    jest.advanceTimersByTime(40);
    expect(expired).toEqual(['first', 'third']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never expires a call that settled, and arms again after going idle', () => {
    const deadlines = new Deadlines(50);
    const expired: number[] = [];
    const settled = deadlines.start(() => expired.push(1));
    expect(deadlines.settle(settled)).toBe(true);
    expect(deadlines.settle(settled)).toBe(false);
    jest.advanceTimersByTime(50);
    expect(expired).toEqual([]);
    deadlines.start(() => expired.push(2));
    jest.advanceTimersByTime(50);
    expect(expired).toEqual([2]);
  });

  it('lets go of a settled call at once, not when its deadline passes', () => {
    const deadlines = new Deadlines(5_000);
    const expired: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const deadline = deadlines.start(() => expired.push(i));
      if (i % 2 === 0) deadlines.settle(deadline);
    }
    expect(deadlines.waiting).toBe(500);
    jest.advanceTimersByTime(5_000);
    expect(deadlines.waiting).toBe(0);
    expect(expired).toHaveLength(500);
    expect(expired.every((i) => i % 2 === 1)).toBe(true);
  });
});
