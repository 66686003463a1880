import type { NodeCallback } from '../../lib/core/callback';
import type { SessionChange, StoredSession } from '../../lib/core/stored-session';
import { MemoryStore } from '../../lib/stores/memory.store';
import type { SessionStore } from '../../lib/stores/session-store.interface';

type Operation = 'get' | 'set' | 'destroy' | 'touch' | 'patch';

/**
 * A real MemoryStore that counts the calls the core makes, and can be told to fail or to hang,
 * for tests of the core's lifecycle (never as proof that a store works).
 */
export class InstrumentedStore implements SessionStore {
  readonly inner = new MemoryStore();
  calls: { op: Operation; sid: string; arg?: unknown }[] = [];
  /** Make every call reject with this error. */
  failWith: Error | undefined;
  /** Make every call never answer. */
  hang = false;
  /** Hold `get` calls until this promise settles (to line up concurrent requests). */
  getGate: Promise<void> | undefined;

  count(op?: Operation): number {
    return op ? this.calls.filter((c) => c.op === op).length : this.calls.length;
  }

  reset(): void {
    this.calls = [];
  }

  async get(sid: string): Promise<StoredSession | null> {
    await this.enter('get', sid);
    if (this.getGate) await this.getGate;
    return this.inner.get(sid);
  }

  async set(sid: string, session: StoredSession): Promise<void> {
    await this.enter('set', sid, session);
    return this.inner.set(sid, session);
  }

  async destroy(sid: string): Promise<void> {
    await this.enter('destroy', sid);
    return this.inner.destroy(sid);
  }

  /** Passes the inner store's answer on: `false` when the session was no longer stored. */
  async touch(sid: string, session: StoredSession): Promise<boolean> {
    await this.enter('touch', sid, session);
    return this.inner.touch(sid, session);
  }

  /** Passes the inner store's answer on: `false` when the session was no longer stored. */
  async patch(sid: string, change: SessionChange): Promise<boolean> {
    await this.enter('patch', sid, change);
    return this.inner.patch(sid, change);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    return this.inner.length(callback);
  }

  close(): void {
    this.inner.close();
  }

  private async enter(op: Operation, sid: string, arg?: unknown): Promise<void> {
    this.calls.push({ op, sid, arg });
    if (this.hang) await new Promise(() => undefined);
    if (this.failWith) throw this.failWith;
  }
}
