import type { NodeCallback } from '../../lib/core/callback';
import type { SessionChange, StoredSession } from '../../lib/core/stored-session';
import { MemoryStore } from '../../lib/stores/memory.store';
import type { SessionStore } from '../../lib/stores/session-store.interface';
import { sleep } from './time';

/** The data key that makes a {@link SlowStore} refuse the write that carries it. */
export const REFUSE_KEY = 'refuseWrite';

/** What one session's writes came to, as the store saw them. */
export interface WriteStats {
  /** Writes (`set`, `patch`, `touch`) the store acknowledged. */
  acked: number;
  /** Writes the store refused. */
  refused: number;
  /** Writes started and not yet answered. */
  pending: number;
}

/**
 * A real MemoryStore behind a wrapper that a test steers from outside: every write can be made
 * to wait `writeDelayMs` before it answers, a write whose data carries `refuseWrite: true` (or
 * the next write of a session armed with `failNextWrite`) is refused, and every session's
 * acknowledged and refused writes are counted, so that a test can tell whether a write reached
 * the store. Never proof that a store works: a tool for the HTTP glue's tests.
 */
export class SlowStore implements SessionStore {
  readonly inner = new MemoryStore({ sweepInterval: 0 });
  /** How long every write waits before it answers (0: no wait). */
  writeDelayMs = 0;
  private readonly stats = new Map<string, WriteStats>();
  private readonly armed = new Set<string>();

  /** The counts of `sid`'s writes so far. */
  statsOf(sid: string): WriteStats {
    return { ...(this.stats.get(sid) ?? { acked: 0, refused: 0, pending: 0 }) };
  }

  /** Makes the next write of `sid` fail. */
  failNextWrite(sid: string): void {
    this.armed.add(sid);
  }

  /** The record stored under `sid` right now, or null. */
  record(sid: string): Promise<StoredSession | null> {
    return this.inner.get(sid);
  }

  get(sid: string): Promise<StoredSession | null> {
    return this.inner.get(sid);
  }

  set(sid: string, session: StoredSession): Promise<void> {
    return this.write(sid, session, () => this.inner.set(sid, session));
  }

  patch(sid: string, change: SessionChange) {
    return this.write(sid, change.set, () => this.inner.patch(sid, change));
  }

  touch(sid: string, session: StoredSession) {
    return this.write(sid, {}, () => this.inner.touch(sid, session));
  }

  destroy(sid: string): Promise<void> {
    return this.inner.destroy(sid);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    return this.inner.length(callback);
  }

  close(): void {
    this.inner.close();
  }

  private async write<T>(
    sid: string,
    data: Readonly<Record<string, unknown>>,
    run: () => Promise<T>,
  ): Promise<T> {
    const stats = this.stats.get(sid) ?? { acked: 0, refused: 0, pending: 0 };
    this.stats.set(sid, stats);
    stats.pending++;
    try {
      if (this.writeDelayMs > 0) await sleep(this.writeDelayMs);
      if (this.armed.delete(sid) || data[REFUSE_KEY] === true) {
        stats.refused++;
        throw new Error(`the test store refused this write of session ${sid.slice(0, 6)}…`);
      }
      const result = await run();
      stats.acked++;
      return result;
    } finally {
      stats.pending--;
    }
  }
}
