import type { SessionStore } from './session-store';
import type { NodeCallback } from './callback';
import { SessionStoreError } from './errors';
import { markSettledMethods, PROMISE_STORE, StoreGateway } from './store-gateway';
import type { SessionChange, StoredSession } from './stored-session';

function stored(data: Record<string, unknown> = {}, inMs = 3_600_000): StoredSession {
  return { ...data, cookie: { originalMaxAge: inMs, expires: new Date(Date.now() + inMs) } };
}

function change(set: Record<string, unknown>, unset: string[] = []): SessionChange {
  return { set, unset, session: stored(set), base: null };
}

/** A store in connect's original style: callbacks only, no Promises, no patch, no touch. */
function callbackOnlyStore(records: Record<string, StoredSession> = {}) {
  const sets: [string, StoredSession][] = [];
  const store = {
    get(sid: string, cb: NodeCallback<StoredSession | null>) {
      setImmediate(() => cb(null, records[sid] ? structuredClone(records[sid]) : null));
    },
    set(sid: string, session: StoredSession, cb: NodeCallback) {
      sets.push([sid, session]);
      setImmediate(() => cb(null));
    },
    destroy(_sid: string, cb: NodeCallback) {
      setImmediate(() => cb(null));
    },
  };
  return { store: store as SessionStore, sets };
}

describe('StoreGateway', () => {
  describe('for a store without patch (re-read, merge, set)', () => {
    it('patch of a missing record resolves false and calls no set', async () => {
      const { store, sets } = callbackOnlyStore();
      await expect(new StoreGateway(store, 1_000).patch('gone', change({ a: 1 }))).resolves.toBe(
        false,
      );
      expect(sets).toEqual([]);
    });

    it('patch of a record whose cookie has expired resolves false and calls no set', async () => {
      const { store, sets } = callbackOnlyStore({ old: stored({ a: 1 }, -1_000) });
      await expect(new StoreGateway(store, 1_000).patch('old', change({ a: 2 }))).resolves.toBe(
        false,
      );
      expect(sets).toEqual([]);
    });

    it('patch of a live record sets the merge of the change into it, and resolves true', async () => {
      const current = stored({ keep: 1, drop: 2, change: 3 });
      const { store, sets } = callbackOnlyStore({ live: current });
      const gateway = new StoreGateway(store, 1_000);
      await expect(gateway.patch('live', change({ change: 4 }, ['drop']))).resolves.toBe(true);
      expect(sets).toEqual([['live', { keep: 1, change: 4, cookie: current.cookie }]]);
    });

    it('touch is a patch of the cookie: false and no set when gone, true when live', async () => {
      const current = stored({ a: 1 }, 60_000);
      const { store, sets } = callbackOnlyStore({ live: current });
      const gateway = new StoreGateway(store, 1_000);
      const later = stored({ a: 'not written' });
      await expect(gateway.touch('gone', later, stored())).resolves.toBe(false);
      expect(sets).toEqual([]);
      await expect(gateway.touch('live', later, current)).resolves.toBe(true);
      expect(sets).toEqual([['live', { a: 1, cookie: later.cookie }]]);
    });
  });

  describe("for a store with patch and touch, the store's answer", () => {
    const answering = (answer: boolean | undefined, style: 'promise' | 'callback') => {
      const reply = (cb?: NodeCallback<boolean | void>) => {
        if (style === 'promise') return Promise.resolve(answer);
        setImmediate(() => cb!(null, answer));
      };
      const store = {
        get: () => Promise.resolve(null),
        set: () => Promise.resolve(),
        destroy: () => Promise.resolve(),
        patch: (_sid: string, _change: SessionChange, cb?: NodeCallback<boolean | void>) =>
          reply(cb),
        touch: (_sid: string, _session: StoredSession, cb?: NodeCallback<boolean | void>) =>
          reply(cb),
      };
      return new StoreGateway(store as SessionStore, 1_000);
    };

    it.each(['promise', 'callback'] as const)(
      'is passed on (%s style): false is false, true and undefined are applied',
      async (style) => {
        for (const [answer, applied] of [
          [false, false],
          [true, true],
          [undefined, true],
        ] as const) {
          const gateway = answering(answer, style);
          await expect(gateway.patch('id', change({ a: 1 }))).resolves.toBe(applied);
          await expect(gateway.touch('id', stored(), stored())).resolves.toBe(applied);
        }
      },
    );
  });

  describe('for a store whose methods answer before they return (markSettledMethods)', () => {
    class SettledStore {
      readonly [PROMISE_STORE] = true;
      get(sid: string): Promise<StoredSession | null> {
        if (sid === 'throws') throw new Error('sync failure');
        if (sid === 'rejects') return Promise.reject(new Error('async failure'));
        if (sid === 'rejects-falsy') return Promise.reject(0 as unknown as Error);
        return Promise.resolve(sid === 'missing' ? null : stored({ a: 1 }));
      }
      set(): Promise<void> {
        return Promise.resolve();
      }
      destroy(): Promise<void> {
        return Promise.resolve();
      }
    }
    markSettledMethods(SettledStore.prototype);
    /** The gateway's pending deadlines, as its unit tests may read them. */
    const waiting = (gateway: StoreGateway) =>
      (gateway as unknown as { deadlines: { waiting: number } }).deadlines.waiting;

    it('arms no deadline, and still answers and fails as every store call does', async () => {
      const gateway = new StoreGateway(new SettledStore() as unknown as SessionStore, 1_000);
      const found = gateway.get('id');
      expect(waiting(gateway)).toBe(0);
      await expect(found).resolves.toMatchObject({ a: 1, cookie: { originalMaxAge: 3_600_000 } });
      await expect(gateway.get('missing')).resolves.toBeNull();
      for (const sid of ['throws', 'rejects', 'rejects-falsy']) {
        const failed = gateway.get(sid);
        await expect(failed).rejects.toBeInstanceOf(SessionStoreError);
        await expect(failed).rejects.toMatchObject({ operation: 'get' });
      }
    });

    it("a subclass's own override is bounded by the deadline again", async () => {
      class HangingGet extends SettledStore {
        override get(): Promise<StoredSession | null> {
          return new Promise(() => undefined);
        }
      }
      const gateway = new StoreGateway(new HangingGet() as unknown as SessionStore, 20);
      const hanging = gateway.get('id');
      expect(waiting(gateway)).toBe(1);
      await expect(hanging).rejects.toThrow('did not answer within 20 ms');
    });
  });
});
