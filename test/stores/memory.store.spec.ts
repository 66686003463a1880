import { MemoryStore } from '../../lib/stores/memory.store';
import type { NodeCallback } from '../../lib/core/callback';
import { StoreGateway } from '../../lib/core/store-gateway';
import type { StoredSession } from '../../lib/core/stored-session';
import { change, storedSession, withUser } from '../support/records';
import { describeStoreContract } from './store-contract';
import { describeUserIndexContract } from './user-index-contract';
import { sleep } from '../support/time';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

describeUserIndexContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

/** The store's per-user index map, user → ids, as it holds it. */
function indexOf(store: MemoryStore): Map<string, Set<string>> {
  return (store as unknown as { idsByUser: Map<string, Set<string>> }).idsByUser;
}

/** The index as plain data, users and ids sorted, for comparisons. */
function indexed(store: MemoryStore): Record<string, string[]> {
  const entries = [...indexOf(store)].map(([user, ids]) => [user, [...ids].sort()] as const);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('MemoryStore', () => {
  it('drops the least recently written session past max', async () => {
    const store = new MemoryStore({ max: 2 });
    await store.set('a', storedSession({ n: 1 }));
    await store.set('b', storedSession({ n: 2 }));
    await store.set('a', storedSession({ n: 3 }));
    await store.set('c', storedSession({ n: 4 }));
    expect(await store.ids()).toEqual(['a', 'c']);
    store.close();
  });

  it('sweeps expired sessions out without waiting for them to be read', async () => {
    const store = new MemoryStore({ sweepInterval: 50 });
    await store.set('old', storedSession({}, 20));
    await store.set('young', storedSession({}, 3_600_000));
    await sleep(200);
    // ids() would sweep on its own; look at the map the sweep timer alone has cleaned.
    expect([...(store as unknown as { entries: Map<string, unknown> }).entries.keys()]).toEqual([
      'young',
    ]);
    store.close();
  });

  it('keeps its sweep timer from holding the process open, and stops it on close', () => {
    const store = new MemoryStore();
    const timer = (store as unknown as { sweepTimer?: NodeJS.Timeout }).sweepTimer;
    expect(timer?.hasRef()).toBe(false);
    store.onApplicationShutdown();
    expect((store as unknown as { sweepTimer?: NodeJS.Timeout }).sweepTimer).toBeUndefined();
  });

  describe('its per-user index', () => {
    let store: MemoryStore;
    beforeEach(() => {
      store = new MemoryStore({ sweepInterval: 0 });
    });
    afterEach(() => store.close());

    it('drops the index entry of a session evicted past max', async () => {
      const small = new MemoryStore({ max: 2, sweepInterval: 0 });
      await small.set('a', withUser(storedSession({}), 'ada'));
      await small.set('b', withUser(storedSession({}), 'ada'));
      await small.set('c', withUser(storedSession({}), 'bob'));
      expect(indexed(small)).toEqual({ ada: ['b'], bob: ['c'] });
      expect((await small.findByUser('ada')).map((entry) => entry.id)).toEqual(['b']);
      await small.set('d', withUser(storedSession({}), 'bob'));
      // 'b' was ada's last session: ada has no key left at all.
      expect(indexed(small)).toEqual({ bob: ['c', 'd'] });
      small.close();
    });

    it('drops the index entries of the sessions the sweep removes', async () => {
      await store.set('soon', withUser(storedSession({}, 60_000), 'ada'));
      await store.set('later', withUser(storedSession({}, 7_200_000), 'ada'));
      await store.set('bobs', withUser(storedSession({}, 60_000), 'bob'));
      store.sweep(Date.now() + 3_600_000);
      expect(indexed(store)).toEqual({ ada: ['later'] });
    });

    it('drops the index entry of an expired session once a read finds it expired', async () => {
      await store.set('old', withUser(storedSession({}, -1_000), 'ada'));
      expect(indexed(store)).toEqual({ ada: ['old'] });
      expect(await store.findByUser('ada')).toEqual([]);
      expect(indexed(store)).toEqual({});
    });

    it('keeps no key for a user whose sessions are all gone, however they went', async () => {
      const user = (i: number) => `user-${i}`;
      const signIn = (id: string, i: number) => store.set(id, withUser(storedSession({}), user(i)));
      await signIn('destroyed', 0);
      await store.destroy('destroyed');
      await signIn('signed-out', 1);
      const read = await store.get('signed-out');
      const anonymous = storedSession({});
      await store.patch('signed-out', change(anonymous, { cookie: anonymous.cookie }, [], read));
      await signIn('moved', 2);
      await signIn('moved', 3);
      await signIn('touched-out', 4);
      await store.touch('touched-out', storedSession({}));
      for (let i = 5; i < 105; i++) await signIn(`many-${i}`, 5);
      await store.destroyByUser(user(5), undefined);
      expect(indexed(store)).toEqual({ [user(3)]: ['moved'] });
      await store.clear();
      expect(indexOf(store).size).toBe(0);
    });
  });

  describe('a patch whose base is the record it handed out, unchanged since', () => {
    it('stores what the handler changed in a nested value, and keeps the keys it did not send', async () => {
      const store = new MemoryStore({ sweepInterval: 0 });
      await store.set('id', storedSession({ cart: { items: ['a'] }, legacy: 'kept' }));
      const read = (await store.get('id')) as StoredSession;
      // The handler holds the same nested objects as the record (the core copies keys only).
      const cart = read.cart as { items: string[] };
      cart.items.push('b');
      await store.patch('id', change(storedSession({ cart }), { cart }, [], read));
      cart.items.push('not stored: after the patch');
      const { cookie: _cookie, ...data } = (await store.get('id')) as StoredSession;
      expect(data).toEqual({ cart: { items: ['a', 'b'] }, legacy: 'kept' });
      store.close();
    });

    it('is merged onto the live record once another write replaced the one it was read from', async () => {
      const store = new MemoryStore({ sweepInterval: 0 });
      await store.set('id', storedSession({ a: 0, b: 0 }));
      const read = (await store.get('id')) as StoredSession;
      await store.set('id', storedSession({ a: 0, b: 0, c: 'written meanwhile' }));
      await store.patch('id', change(storedSession({ a: 1, b: 0 }), { a: 1 }, [], read));
      const { cookie: _cookie, ...data } = (await store.get('id')) as StoredSession;
      expect(data).toEqual({ a: 1, b: 0, c: 'written meanwhile' });
      store.close();
    });
  });

  it('rejects options it cannot honour, naming them', () => {
    expect(() => new MemoryStore({ max: 0 })).toThrow(
      'MemoryStore option "max" must be a positive integer, got 0',
    );
    expect(() => new MemoryStore({ ttl: -1 })).toThrow('MemoryStore option "ttl"');
  });
});

describe('MemoryStore subclassed with callback-style methods (as express-session stores are written)', () => {
  /** Overrides get and set the connect way: a callback, no Promise returned. */
  class CallbackMemoryStore extends MemoryStore {
    readonly seen: string[] = [];
    override get(
      sid: string,
      callback?: NodeCallback<StoredSession | null>,
    ): Promise<StoredSession | null> {
      this.seen.push(`get ${sid}`);
      void super.get(sid).then((session) => callback!(null, session), callback);
      // What a connect store returns: nothing. Only the callback answers.
      return undefined as never;
    }
    override set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
      this.seen.push(`set ${sid}`);
      void super.set(sid, session).then(() => callback!(null), callback);
      return undefined as never;
    }
  }

  it('is called back through the overrides, by the gateway every request goes through', async () => {
    const store = new CallbackMemoryStore();
    const gateway = new StoreGateway(store, 1000);
    const session = storedSession({ views: 1 });
    await gateway.set('sid-1', session);
    expect(await gateway.get('sid-1')).toEqual(session);
    expect(store.seen).toEqual(['set sid-1', 'get sid-1']);
    // The methods it does not override are still the Promise-native ones.
    await gateway.destroy('sid-1');
    expect(await gateway.get('sid-1')).toBeNull();
    store.close();
  });
});
