import type { NodeCallback } from '../../lib/core/callback';
import type { StoredSession } from '../../lib/core/stored-session';
import type { SessionStore } from '../../lib/stores/session-store.interface';
import { sid } from '../support/ids';
import { change, dataOf, storedSession } from '../support/records';
import { sleep } from '../support/time';

/** What a store suite hands the contract: a fresh, empty store, and how to let it go. */
export interface StoreUnderTest {
  store: SessionStore;
  /** Called after each test. */
  close?: () => Promise<void> | void;
}

/**
 * The behaviour every Tessera store promises, run against each store on its real backend
 * (`describeStoreContract('RedisStore (ioredis)', async () => ({ store, close }))`).
 * `make` is called before each test and must give an empty store.
 */
export function describeStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`${name}: the store contract`, () => {
    let subject: StoreUnderTest;
    let store: SessionStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close?.();
    });

    it('gives null (or undefined) for an id it does not hold', async () => {
      expect((await store.get(sid())) ?? null).toBeNull();
    });

    it('keeps a session in the express-session layout and returns it whole', async () => {
      const id = sid();
      const session = storedSession({ views: 3, user: { name: 'ada', roles: ['admin'] } });
      await store.set(id, session);
      expect(await store.get(id)).toEqual(session);
    });

    it('hands out copies: changing what get() returned does not change the store', async () => {
      const id = sid();
      const session = storedSession({ list: [1] });
      await store.set(id, session);
      const first = (await store.get(id)) as StoredSession;
      (first.list as number[]).push(2);
      first.extra = true;
      expect(await store.get(id)).toEqual(session);
    });

    it('replaces a session on set', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      const replacement = storedSession({ b: 2 });
      await store.set(id, replacement);
      expect(await store.get(id)).toEqual(replacement);
    });

    it('destroys a session, and destroying an absent one is not an error', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }));
      await store.destroy(id);
      expect((await store.get(id)) ?? null).toBeNull();
      await expect(Promise.resolve(store.destroy(sid()))).resolves.toBeUndefined();
    });

    it('never returns a session whose cookie has expired', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, 300));
      expect(await store.get(id)).toEqual(expect.objectContaining({ a: 1 }));
      await sleep(700);
      expect((await store.get(id)) ?? null).toBeNull();
    });

    it('keeps a browser-session cookie (no expiry) for its own ttl', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, null));
      expect(await store.get(id)).toEqual(storedSession({ a: 1 }, null));
    });

    it('touch extends the expiry without rewriting the data', async () => {
      expect(typeof store.touch).toBe('function');
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, 300));
      await store.touch!(id, storedSession({ a: 'not written' }, 3_600_000));
      await sleep(700);
      expect(await store.get(id)).toEqual(expect.objectContaining({ a: 1 }));
    });

    it('touch stores the new cookie with the new expiry, so the record and the store agree', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 1 }, 60_000));
      const extended = storedSession({ a: 'not written' }, 3_600_000);
      await store.touch!(id, extended);
      expect(await store.get(id)).toEqual({ a: 1, cookie: extended.cookie });
    });

    it('patch applies one request’s change to the record as it is now', async () => {
      expect(typeof store.patch).toBe('function');
      const id = sid();
      const base = storedSession({ keep: 1, drop: 2, change: 3 });
      await store.set(id, base);
      const read = (await store.get(id)) as StoredSession;
      const after = storedSession({ keep: 1, change: 4 });
      await store.patch!(id, change(after, { change: 4 }, ['drop'], read));
      expect(dataOf(await store.get(id))).toEqual({ keep: 1, change: 4 });
    });

    it('patches of two requests that read the same record keep both changes', async () => {
      const id = sid();
      await store.set(id, storedSession({ a: 0, b: 0, gone: 1 }));
      const readByFirst = (await store.get(id)) as StoredSession;
      const readBySecond = (await store.get(id)) as StoredSession;
      await store.patch!(
        id,
        change(storedSession({ a: 1, b: 0 }), { a: 1 }, ['gone'], readByFirst),
      );
      await store.patch!(
        id,
        change(storedSession({ a: 0, b: 2, gone: 1 }), { b: 2 }, [], readBySecond),
      );
      expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
    });

    it('patches racing on the same record all land', async () => {
      const id = sid();
      await store.set(id, storedSession({}));
      const reads = await Promise.all(Array.from({ length: 8 }, () => store.get(id)));
      await Promise.all(
        reads.map((read, i) =>
          store.patch!(
            id,
            change(storedSession({ [`k${i}`]: i }), { [`k${i}`]: i }, [], read as StoredSession),
          ),
        ),
      );
      const keys = Object.keys((await store.get(id)) as StoredSession).filter(
        (key) => key !== 'cookie',
      );
      expect(keys.sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']);
    });

    describe('a write never brings back a session that is gone (logout is final)', () => {
      it('patch of an id the store does not hold writes nothing and resolves false', async () => {
        const id = sid();
        const session = storedSession({ a: 1, b: 2 });
        await expect(Promise.resolve(store.patch!(id, change(session, { a: 1 })))).resolves.toBe(
          false,
        );
        expect((await store.get(id)) ?? null).toBeNull();
        expect(await store.length!()).toBe(0);
      });

      it('a patch made with a record read before destroy() resolves false and leaves it gone', async () => {
        const id = sid();
        await store.set(id, storedSession({ user: 'ada' }));
        const read = (await store.get(id)) as StoredSession;
        await store.destroy(id);
        const after = storedSession({ user: 'ada', cart: [1] });
        const patched = store.patch!(id, change(after, { cart: [1] }, [], read));
        await expect(Promise.resolve(patched)).resolves.toBe(false);
        expect((await store.get(id)) ?? null).toBeNull();
        expect(await store.length!()).toBe(0);
      });

      it('a patch of an expired record resolves false and creates nothing', async () => {
        const [id, unread] = [sid(), sid()];
        await store.set(id, storedSession({ a: 1 }, 300));
        await store.set(unread, storedSession({ a: 1 }, 300));
        const read = (await store.get(id)) as StoredSession;
        await sleep(700);
        const later = storedSession({ a: 1, b: 2 }, 3_600_000);
        const patches = [
          store.patch!(id, change(later, { b: 2, cookie: later.cookie }, [], read)),
          store.patch!(unread, change(later, { b: 2, cookie: later.cookie })),
        ];
        await expect(Promise.all(patches)).resolves.toEqual([false, false]);
        expect((await store.get(id)) ?? null).toBeNull();
        expect((await store.get(unread)) ?? null).toBeNull();
        expect(await store.length!()).toBe(0);
      });

      it('touch of an absent, destroyed or expired session resolves false and creates nothing', async () => {
        const [absent, destroyed, expired] = [sid(), sid(), sid()];
        await store.set(destroyed, storedSession({ a: 1 }));
        await store.destroy(destroyed);
        await store.set(expired, storedSession({ a: 1 }, 300));
        await sleep(700);
        for (const id of [absent, destroyed, expired]) {
          const touched = store.touch!(id, storedSession({ a: 1 }, 3_600_000));
          await expect(Promise.resolve(touched)).resolves.toBe(false);
          expect((await store.get(id)) ?? null).toBeNull();
        }
        expect(await store.length!()).toBe(0);
      });

      it('patch and touch of a live session resolve true', async () => {
        const id = sid();
        await store.set(id, storedSession({ a: 1 }));
        const read = (await store.get(id)) as StoredSession;
        const patched = store.patch!(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], read));
        await expect(Promise.resolve(patched)).resolves.toBe(true);
        const touched = store.touch!(id, storedSession({ a: 1, b: 2 }, 7_200_000));
        await expect(Promise.resolve(touched)).resolves.toBe(true);
        expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
      });

      it('answers the same to node-style callbacks: (null, false) when gone, (null, true) when applied', async () => {
        const answer = (call: (cb: NodeCallback<boolean | void>) => unknown) =>
          new Promise((resolve, reject) =>
            call((err, applied) => (err ? reject(err) : resolve(applied))),
          );
        const [live, gone] = [sid(), sid()];
        await store.set(live, storedSession({ a: 1 }));
        const session = storedSession({ a: 2 });
        expect(await answer((cb) => store.patch!(gone, change(session, { a: 2 }), cb))).toBe(false);
        expect(await answer((cb) => store.touch!(gone, session, cb))).toBe(false);
        expect(await answer((cb) => store.patch!(live, change(session, { a: 2 }), cb))).toBe(true);
        expect(await answer((cb) => store.touch!(live, session, cb))).toBe(true);
        expect((await store.get(gone)) ?? null).toBeNull();
        expect(dataOf(await store.get(live))).toEqual({ a: 2 });
      });
    });

    it('counts, lists, and clears what it holds', async () => {
      const ids = [sid(), sid(), sid()];
      for (const [i, id] of ids.entries()) await store.set(id, storedSession({ i }));
      expect(await store.length!()).toBe(3);
      expect(((await store.ids!()) as string[]).sort()).toEqual([...ids].sort());
      const all = (await store.all!()) as Record<string, StoredSession>;
      expect(Object.keys(all).sort()).toEqual([...ids].sort());
      expect(dataOf(all[ids[1]!])).toEqual({ i: 1 });
      await store.clear!();
      expect(await store.length!()).toBe(0);
      expect((await store.get(ids[0]!)) ?? null).toBeNull();
    });

    it('also answers node-style callbacks, as express-session calls a store', async () => {
      const id = sid();
      const session = storedSession({ a: 1 });
      await new Promise<void>((resolve, reject) =>
        store.set(id, session, (err) => (err ? reject(err) : resolve())),
      );
      const got = await new Promise((resolve, reject) =>
        store.get(id, (err, value) => (err ? reject(err) : resolve(value))),
      );
      expect(got).toEqual(session);
      const count = await new Promise((resolve, reject) =>
        store.length!((err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(count).toBe(1);
      await new Promise<void>((resolve, reject) =>
        store.destroy(id, (err) => (err ? reject(err) : resolve())),
      );
      expect((await store.get(id)) ?? null).toBeNull();
    });

    it('refuses a value JSON cannot hold with an error, not a silent loss', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(
        Promise.resolve(store.set(sid(), storedSession({ circular }))),
      ).rejects.toThrow();
    });
  });
}
