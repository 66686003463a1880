import type { NodeCallback } from '../../lib/core/callback';
import type { StoredSession } from '../../lib/core/stored-session';
import type { IndexedSession, SessionStore } from '../../lib/stores/session-store.interface';
import { sid } from '../support/ids';
import { change, dataOf, storedSession, withUser } from '../support/records';
import type { StoreUnderTest } from './store-contract';

/** Expired a second ago: the only expiry this suite uses, so it never waits on a clock. */
const EXPIRED = -1_000;

/**
 * The per-user index every Tessera store with `findByUser` / `destroyByUser` promises, run
 * against each store on its real backend
 * (`describeUserIndexContract('RedisStore (ioredis)', async () => ({ store, close }))`).
 * `make` is called before each test and must give an empty store. Nothing here waits for time
 * to pass: an expired record is one written with an expiry already in the past.
 */
export function describeUserIndexContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`${name}: the per-user index`, () => {
    let subject: StoreUnderTest;
    let store: SessionStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close?.();
    });

    /** What findByUser resolves, in id order (a store may list in any order). */
    const listed = async (user: string): Promise<IndexedSession[]> => {
      const found = (await store.findByUser!(user)) as IndexedSession[];
      return [...found].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    };
    const listedIds = async (user: string) => (await listed(user)).map((entry) => entry.id);
    const destroyByUser = (user: string, exceptId?: string) =>
      Promise.resolve(store.destroyByUser!(user, exceptId));
    const read = async (id: string) => ((await store.get(id)) ?? null) as StoredSession | null;
    /** Writes a live session of `user` under a new id, and gives the id. */
    const signIn = async (user: string, data: Record<string, unknown> = {}) => {
      const id = sid();
      await store.set(id, withUser(storedSession(data), user));
      return id;
    };
    const sorted = (ids: string[]) => [...ids].sort();

    it('has both findByUser and destroyByUser', () => {
      expect(typeof store.findByUser).toBe('function');
      expect(typeof store.destroyByUser).toBe('function');
    });

    describe('findByUser', () => {
      it('lists a session written with a user, by its id and with its whole record', async () => {
        const id = sid();
        const session = withUser(storedSession({ views: 2, cart: { items: [1, 'two'] } }), 'ada');
        await store.set(id, session);
        expect(await store.findByUser!('ada')).toEqual([{ id, session }]);
      });

      it('lists every session of the user, and none of another user', async () => {
        const ada = [await signIn('ada'), await signIn('ada')];
        const bob = await signIn('bob');
        expect(await listedIds('ada')).toEqual(sorted(ada));
        expect(await listedIds('bob')).toEqual([bob]);
        expect(await listedIds('carol')).toEqual([]);
      });

      it('does not list a session without a user, nor one a later set wrote without one', async () => {
        await store.set(sid(), storedSession({ anonymous: true }));
        const signedOut = await signIn('ada');
        await store.set(signedOut, storedSession({ signedOut: true }));
        expect(await listed('ada')).toEqual([]);
        // Still a session, just nobody's.
        expect(dataOf(await read(signedOut))).toEqual({ signedOut: true });
      });

      it('moves a session that a later set writes under another user', async () => {
        const id = await signIn('ada');
        const bobs = withUser(storedSession({ now: 'bob' }), 'bob');
        await store.set(id, bobs);
        expect(await listed('ada')).toEqual([]);
        expect(await listed('bob')).toEqual([{ id, session: bobs }]);
      });

      it('moves a session whose patch changes cookie.user', async () => {
        const id = await signIn('ada', { a: 1 });
        const before = (await read(id))!;
        const after = withUser(storedSession({ a: 1 }), 'bob');
        const patched = store.patch!(id, change(after, { cookie: after.cookie }, [], before));
        await expect(Promise.resolve(patched)).resolves.not.toBe(false);
        expect(await listed('ada')).toEqual([]);
        expect(await listed('bob')).toEqual([{ id, session: { a: 1, cookie: after.cookie } }]);
      });

      it('drops a session whose patch writes a cookie without a user, and keeps the session', async () => {
        const id = await signIn('ada', { a: 1 });
        const before = (await read(id))!;
        const after = storedSession({ a: 1 });
        await store.patch!(id, change(after, { cookie: after.cookie }, [], before));
        expect(await listed('ada')).toEqual([]);
        expect(await read(id)).toEqual({ a: 1, cookie: after.cookie });
      });

      it('keeps a session whose patch changes data and writes the same user in its cookie', async () => {
        const id = await signIn('ada', { a: 1, gone: true });
        const before = (await read(id))!;
        const after = withUser(storedSession({ a: 1, b: 2 }), 'ada');
        await store.patch!(id, change(after, { b: 2, cookie: after.cookie }, ['gone'], before));
        expect(await listed('ada')).toEqual([
          { id, session: { a: 1, b: 2, cookie: after.cookie } },
        ]);
      });

      it('keeps a session whose patch writes no cookie at all: the record keeps its user', async () => {
        const id = await signIn('ada', { a: 1 });
        const before = (await read(id))!;
        await store.patch!(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], before));
        const [entry] = await listed('ada');
        expect(entry?.id).toBe(id);
        expect(dataOf(entry?.session)).toEqual({ a: 1, b: 2 });
        expect(entry?.session.cookie.user).toBe('ada');
      });

      it('keeps a touched session listed, with the cookie the touch stored', async () => {
        const id = await signIn('ada', { a: 1 });
        const extended = withUser(storedSession({ a: 'not written' }, 7_200_000), 'ada');
        const touched = store.touch!(id, extended);
        await expect(Promise.resolve(touched)).resolves.not.toBe(false);
        expect(await listed('ada')).toEqual([{ id, session: { a: 1, cookie: extended.cookie } }]);
      });

      it('drops a destroyed session, and a patch or touch made after the destroy does not bring it back', async () => {
        const [gone, kept] = [await signIn('ada', { a: 1 }), await signIn('ada')];
        const before = (await read(gone))!;
        await store.destroy(gone);
        expect(await listedIds('ada')).toEqual([kept]);
        const later = withUser(storedSession({ a: 1, b: 2 }), 'ada');
        const patched = store.patch!(
          gone,
          change(later, { b: 2, cookie: later.cookie }, [], before),
        );
        await expect(Promise.resolve(patched)).resolves.toBe(false);
        await expect(Promise.resolve(store.touch!(gone, later))).resolves.toBe(false);
        expect(await listedIds('ada')).toEqual([kept]);
      });

      it('never lists an expired session: one written expired, or a live one rewritten expired', async () => {
        const live = await signIn('ada');
        await store.set(sid(), withUser(storedSession({}, EXPIRED), 'ada'));
        const rewritten = await signIn('ada');
        await store.set(rewritten, withUser(storedSession({}, EXPIRED), 'ada'));
        expect(await listedIds('ada')).toEqual([live]);
      });

      it('lists nothing after clear()', async () => {
        expect(typeof store.clear).toBe('function');
        await signIn('ada');
        await signIn('ada');
        await store.clear!();
        expect(await listed('ada')).toEqual([]);
        await expect(destroyByUser('ada')).resolves.toBe(0);
      });
    });

    describe('destroyByUser', () => {
      it('destroys every session of the user, resolves how many, and leaves other sessions alone', async () => {
        const ada = [await signIn('ada'), await signIn('ada'), await signIn('ada')];
        const bob = await signIn('bob', { mine: 'bob' });
        const anonymous = sid();
        await store.set(anonymous, storedSession({ anonymous: true }));
        await expect(destroyByUser('ada')).resolves.toBe(3);
        for (const id of ada) expect(await read(id)).toBeNull();
        expect(await listed('ada')).toEqual([]);
        expect(dataOf(await read(bob))).toEqual({ mine: 'bob' });
        expect(await listedIds('bob')).toEqual([bob]);
        expect(dataOf(await read(anonymous))).toEqual({ anonymous: true });
      });

      it('keeps the session named by exceptId, listed and readable', async () => {
        const [first, current, last] = [
          await signIn('ada'),
          await signIn('ada'),
          await signIn('ada'),
        ];
        await expect(destroyByUser('ada', current)).resolves.toBe(2);
        expect(await read(first)).toBeNull();
        expect(await read(last)).toBeNull();
        expect(await read(current)).not.toBeNull();
        expect(await listedIds('ada')).toEqual([current]);
      });

      it('leaves another user alone even when exceptId names that user’s session', async () => {
        const ada = [await signIn('ada'), await signIn('ada')];
        const bob = await signIn('bob');
        await expect(destroyByUser('ada', bob)).resolves.toBe(2);
        for (const id of ada) expect(await read(id)).toBeNull();
        expect(await listedIds('bob')).toEqual([bob]);
      });

      it('resolves 0 for a user with no sessions, and destroys nothing', async () => {
        const bob = await signIn('bob');
        const anonymous = sid();
        await store.set(anonymous, storedSession({}));
        await expect(destroyByUser('nobody')).resolves.toBe(0);
        expect(await read(bob)).not.toBeNull();
        expect(await read(anonymous)).not.toBeNull();
      });

      it('counts only live sessions of the user: not an expired one, nor one moved to another user', async () => {
        const live = await signIn('ada');
        await store.set(sid(), withUser(storedSession({}, EXPIRED), 'ada'));
        const moved = await signIn('ada');
        const bobs = withUser(storedSession({ moved: true }), 'bob');
        await store.set(moved, bobs);
        await expect(destroyByUser('ada')).resolves.toBe(1);
        expect(await read(live)).toBeNull();
        expect(await read(moved)).toEqual(bobs);
        expect(await listedIds('bob')).toEqual([moved]);
      });

      it('lets the user sign in again afterwards: the new session is listed', async () => {
        await signIn('ada');
        await destroyByUser('ada');
        const again = await signIn('ada');
        expect(await listedIds('ada')).toEqual([again]);
        await expect(destroyByUser('ada')).resolves.toBe(1);
      });
    });

    it('answers node-style callbacks too, for both methods', async () => {
      const answer = <T>(call: (callback: NodeCallback<T>) => unknown) =>
        new Promise<T | undefined>((resolve, reject) =>
          call((err, value) => (err ? reject(err) : resolve(value))),
        );
      const [first, second, third] = [
        await signIn('ada'),
        await signIn('ada'),
        await signIn('ada'),
      ];
      const found = await answer<IndexedSession[]>((cb) => store.findByUser!('ada', cb));
      expect(found!.map((entry) => entry.id).sort()).toEqual(sorted([first, second, third]));
      expect(await answer<number>((cb) => store.destroyByUser!('ada', first, cb))).toBe(2);
      expect(await listedIds('ada')).toEqual([first]);
      expect(await answer<number>((cb) => store.destroyByUser!('ada', undefined, cb))).toBe(1);
      expect(await answer<IndexedSession[]>((cb) => store.findByUser!('ada', cb))).toEqual([]);
    });

    it('keeps apart users that only look alike: numbers, case, unicode, pattern and quote characters', async () => {
      const users = [
        '42',
        '042',
        '4.2e1',
        '0',
        'Ada',
        'ada',
        'zo\u00eb', // NFC
        'zoe\u0308', // the same text in NFD: another string, so another user
        '用户',
        '😀',
        'a:b',
        'a*',
        'a{b}c',
        '%',
        '_',
        'a b',
        "o'brien",
        'a"b\\c',
      ];
      const idOf = new Map<string, string>();
      for (const user of users) idOf.set(user, await signIn(user, { owner: user }));
      for (const user of users) {
        const found = await listed(user);
        expect({ user, ids: found.map((entry) => entry.id) }).toEqual({
          user,
          ids: [idOf.get(user)],
        });
        expect(found[0]!.session.cookie.user).toBe(user);
      }
      // Each destroys its own session only: a user that matched another would destroy two.
      for (const user of users) {
        expect({ user, destroyed: await destroyByUser(user) }).toEqual({ user, destroyed: 1 });
      }
    });

    it('handles many sessions of one user', async () => {
      const ada: string[] = [];
      for (let i = 0; i < 50; i++) ada.push(await signIn('ada', { i }));
      const bob: string[] = [];
      for (let i = 0; i < 5; i++) bob.push(await signIn('bob', { i }));
      const found = await listed('ada');
      expect(found.map((entry) => entry.id)).toEqual(sorted(ada));
      expect(
        found.map((entry) => dataOf(entry.session).i).sort((a, b) => Number(a) - Number(b)),
      ).toEqual(ada.map((_, i) => i));
      await expect(destroyByUser('ada', ada[7])).resolves.toBe(49);
      expect(await listedIds('ada')).toEqual([ada[7]]);
      expect(await listedIds('bob')).toEqual(sorted(bob));
    });
  });
}
