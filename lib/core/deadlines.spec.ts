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
    second.settled = true;
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(59);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['first']);
    expect(first.settled).toBe(true);
    jest.advanceTimersByTime(40);
    expect(expired).toEqual(['first', 'third']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never expires a call that settled, and arms again after going idle', () => {
    const deadlines = new Deadlines(50);
    const expired: number[] = [];
    deadlines.start(() => expired.push(1)).settled = true;
    jest.advanceTimersByTime(50);
    expect(expired).toEqual([]);
    deadlines.start(() => expired.push(2));
    jest.advanceTimersByTime(50);
    expect(expired).toEqual([2]);
  });
});
