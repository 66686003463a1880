/** One call waiting for its answer, as a `Deadlines` queue holds it. */
interface Pending {
  readonly due: number;
  /** Called once the deadline has passed without the call settling. */
  readonly expire: () => void;
  settled: boolean;
}

/**
 * Every pending store call's deadline, on one timer instead of one each. All calls of a store
 * share the same timeout, so deadlines come due in the order the calls were made: a queue, with
 * one timer armed for its head. Settling a call only marks it; the timer skips what was settled.
 * The timer never keeps the process alive.
 */
export class Deadlines {
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Starts the clock on a call; settle the returned entry when the call answers. */
  start(expire: () => void): { settled: boolean } {
    const pending: Pending = { due: Date.now() + this.timeoutMs, expire, settled: false };
    this.queue.push(pending);
    this.timer ??= this.arm(this.timeoutMs);
    return pending;
  }

  private arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(), ms);
    timer.unref();
    return timer;
  }

  private fire(): void {
    this.timer = undefined;
    const now = Date.now();
    const { queue } = this;
    while (this.head < queue.length) {
      const pending = queue[this.head]!;
      if (!pending.settled && pending.due > now) break;
      this.head++;
      if (!pending.settled) {
        pending.settled = true;
        pending.expire();
      }
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
      return;
    }
    // Compact now and then, so settled entries at the front do not pile up.
    if (this.head > 1024) {
      queue.splice(0, this.head);
      this.head = 0;
    }
    this.timer = this.arm(Math.max(1, queue[this.head]!.due - now));
  }
}
