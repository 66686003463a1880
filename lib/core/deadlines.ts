/** One call waiting for its answer, as `Deadlines` holds it. */
export interface Deadline {
  readonly due: number;
  /** Called once the deadline has passed without the call settling. */
  readonly expire: () => void;
}

/**
 * Every pending store call's deadline, on one timer instead of one each. All calls of a store
 * share the same timeout, so deadlines come due in the order the calls were made: the set of
 * pending calls, in insertion order, with one timer armed for the oldest. A call that settles
 * leaves the set at once, so nothing it holds (its Promise's value, say) outlives it by the
 * length of the timeout. The timer never keeps the process alive.
 */
export class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Starts the clock on a call; `settle` it when the call answers. */
  start(expire: () => void): Deadline {
    const deadline: Deadline = { due: Date.now() + this.timeoutMs, expire };
    this.pending.add(deadline);
    this.timer ??= this.arm(this.timeoutMs);
    return deadline;
  }

  /** How many calls are waiting for their answer (a settled one no longer counts). */
  get waiting(): number {
    return this.pending.size;
  }

  /** The call answered: `true`, or `false` when its deadline had already expired it. */
  settle(deadline: Deadline): boolean {
    return this.pending.delete(deadline);
  }

  private arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(), ms);
    timer.unref();
    return timer;
  }

  private fire(): void {
    this.timer = undefined;
    const now = Date.now();
    // Deleting while iterating a Set is safe; calls started by an expire() are due later.
    for (const deadline of this.pending) {
      if (deadline.due > now) {
        this.timer = this.arm(Math.max(1, deadline.due - now));
        return;
      }
      this.pending.delete(deadline);
      deadline.expire();
    }
  }
}
