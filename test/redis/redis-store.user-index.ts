import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { StoredSession } from '../../lib/core/stored-session';
import { RedisStore, type RedisStoreClient, type RedisStoreOptions } from '../../lib/redis';
import { SCRIPTS } from '../../lib/redis/redis.scripts';
import { sid } from '../support/ids';
import { change, storedSession, withUser } from '../support/records';
import { sleep } from '../support/time';
import { RedisProbe } from './redis-app.support';

// The Redis side of the per-user index: its layout and TTL, how reads check what it says, and
// what it costs, on standalone Redis and on Cluster (where the index is kept apart from the
// session). The store-agnostic behaviour is test/stores/user-index-contract.ts.

/** What the index tests need of a deployment. */
export interface UserIndexSetup {
  client: RedisStoreClient;
  /** Reads and writes keys behind the store's back (a Cluster client on Cluster). */
  admin: Redis | Cluster;
  /** Every master's port, to count on each what the store sent. */
  ports: number[];
  /** Whether the keys are spread over a Cluster's masters. */
  cluster: boolean;
  /** Empties every master. */
  flush(): Promise<void>;
}

/** The index key of `user` under the default prefix. */
const indexOf = (user: string) => `sess:~user:${user}`;

/** A record of `user`'s, expiring `inMs` from now. */
const owned = (user: string, inMs: number | null = 3_600_000, data: Record<string, unknown> = {}) =>
  withUser(storedSession(data, inMs), user);

/** A record's expiry as the index scores it: ms since the epoch. */
const expiryOf = (record: StoredSession) => Date.parse(String(record.cookie.expires));

/** Commands a client library sends on its own (slot refreshes, health checks): not the store's. */
const BACKGROUND = new Set(['cluster', 'ping', 'info', 'command', 'client']);

export function describeRedisUserIndex(name: string, setup: () => UserIndexSetup): void {
  describe(`RedisStore (${name}): the per-user index in Redis`, () => {
    let given: UserIndexSetup;
    let admin: Redis | Cluster;
    let probes: RedisProbe[];
    const make = (options: Partial<RedisStoreOptions> = {}) =>
      new RedisStore({ client: given.client, logger: false, ...options });
    /** The index of `user` as Redis holds it: id → score. */
    const members = async (user: string) => {
      const flat = await admin.zrange(indexOf(user), 0, -1, 'WITHSCORES');
      const scores: Record<string, number> = {};
      for (let i = 0; i < flat.length; i += 2) scores[flat[i]!] = Number(flat[i + 1]);
      return scores;
    };
    const idsOf = async (store: RedisStore, user: string) =>
      (await store.findByUser(user)).map(({ id }) => id).sort();

    /** How many of `keys` exist: one EXISTS each, as a Cluster takes only one slot's keys. */
    const existing = async (...keys: string[]) =>
      (await Promise.all(keys.map((key) => admin.exists(key)))).reduce((sum, n) => sum + n, 0);

    /** The commands clients sent to any master while `action` ran (its round trips), sorted. */
    async function sentFor(action: () => Promise<unknown>): Promise<string[]> {
      const sent: string[] = [];
      // Each node's probe measures around the next one's, and sees only its own node's commands.
      const measureFrom = async (i: number): Promise<void> => {
        if (i === probes.length) return void (await action());
        const measured = await probes[i]!.measure(() => measureFrom(i + 1));
        sent.push(...measured.sent);
      };
      await measureFrom(0);
      return sent.filter((command) => !BACKGROUND.has(command)).sort();
    }

    /** Loads every script on every master: measured calls find them cached, as all but the first do. */
    async function cacheScripts(): Promise<void> {
      for (const probe of probes) {
        for (const [lua] of Object.values(SCRIPTS)) await probe.admin.call('SCRIPT', 'LOAD', lua);
      }
    }

    beforeAll(async () => {
      given = setup();
      admin = given.admin;
      probes = await Promise.all(
        given.ports.map((port) => RedisProbe.start({ host: '127.0.0.1', port })),
      );
    });
    afterAll(async () => {
      await Promise.all(probes.map((probe) => probe.close()));
    });
    beforeEach(() => given.flush());

    it('keeps a sorted set per user under the prefix: member the id, score its expiry', async () => {
      const store = make();
      const [a, b, c, d] = [sid(), sid(), sid(), sid()];
      const [recordA, recordB] = [owned('ada', 3_600_000), owned('ada', 7_200_000)];
      await store.set(a, recordA);
      await store.set(b, recordB);
      await store.set(c, owned('bob'));
      await store.set(d, storedSession({ anonymous: true }));
      expect(await admin.type(indexOf('ada'))).toBe('zset');
      expect(await members('ada')).toEqual({ [a]: expiryOf(recordA), [b]: expiryOf(recordB) });
      expect(Object.keys(await members('bob'))).toEqual([c]);
      // The record is stored as it was given, the user in its cookie.
      expect(JSON.parse((await admin.get(`sess:${a}`))!)).toEqual(recordA);
    });

    it("raises the index key's TTL to cover its longest-lived member, and never lowers it", async () => {
      const store = make();
      await store.set(sid(), owned('ada', 3_600_000));
      await store.set(sid(), owned('ada', 7_200_000));
      const pttl = await admin.pttl(indexOf('ada'));
      expect(pttl).toBeGreaterThan(7_200_000 - 10_000);
      expect(pttl).toBeLessThanOrEqual(7_200_000);
      await store.set(sid(), owned('ada', 60_000));
      expect(await admin.pttl(indexOf('ada'))).toBeGreaterThan(7_200_000 - 10_000);
    });

    it('touch and patch move the score and the TTL with the expiry they write', async () => {
      const store = make();
      const id = sid();
      await store.set(id, owned('ada', 60_000));
      const touched = owned('ada', 3 * 3_600_000);
      await expect(store.touch(id, touched)).resolves.toBe(true);
      expect(await members('ada')).toEqual({ [id]: expiryOf(touched) });
      expect(await admin.pttl(indexOf('ada'))).toBeGreaterThan(3 * 3_600_000 - 10_000);
      const patched = owned('ada', 5 * 3_600_000, { a: 1 });
      const read = await store.get(id);
      await store.patch(id, change(patched, { a: 1, cookie: patched.cookie }, [], read));
      expect(await members('ada')).toEqual({ [id]: expiryOf(patched) });
      expect(await admin.pttl(indexOf('ada'))).toBeGreaterThan(5 * 3_600_000 - 10_000);
    });

    it('never lowers a score: a write that shortens the expiry leaves it covering the longer one', async () => {
      const store = make();
      const id = sid();
      const long = owned('ada', 7_200_000);
      await store.set(id, long);
      await store.touch(id, owned('ada', 60_000));
      // Writes land in any order on Cluster, where the index is written apart: the highest wins.
      expect(await members('ada')).toEqual({ [id]: expiryOf(long) });
      expect(await admin.pttl(`sess:${id}`)).toBeLessThanOrEqual(60_000);
    });

    it('prunes a member found dead only while its score is still the one read', async () => {
      const store = make();
      const [rewritten, gone] = [sid(), sid()];
      await store.set(rewritten, owned('ada', 60_000));
      await store.set(gone, owned('ada', 60_000));
      const seen = await members('ada');
      // Since that read, a write has re-indexed one (a higher score); the other stayed as read.
      await store.set(rewritten, owned('ada', 3_600_000));
      const [lua] = SCRIPTS.indexPrune;
      const args = [rewritten, String(seen[rewritten]), gone, String(seen[gone])];
      await expect(admin.eval(lua, 1, indexOf('ada'), ...args)).resolves.toBe(1);
      expect(Object.keys(await members('ada'))).toEqual([rewritten]);
    });

    it('lets the index key expire with its last member', async () => {
      const store = make();
      await store.set(sid(), owned('ada', 300));
      await store.set(sid(), owned('ada', 500));
      expect(await admin.exists(indexOf('ada'))).toBe(1);
      await sleep(900);
      expect(await admin.exists(indexOf('ada'))).toBe(0);
      expect(await store.findByUser('ada')).toEqual([]);
    });

    it('trims the members whose session has expired when the index is read, unread', async () => {
      const store = make();
      await cacheScripts();
      const [short, long] = [sid(), sid()];
      await store.set(short, owned('ada', 300));
      await store.set(long, owned('ada'));
      await sleep(600);
      // The key lives on for the long session; the expired member is still in it until read.
      expect(Object.keys(await members('ada')).sort()).toEqual([short, long].sort());
      let found: string[] = [];
      const sent = await sentFor(async () => (found = await idsOf(store, 'ada')));
      expect(found).toEqual([long]);
      // By its score: the read script drops it, so only the live member's record is read.
      expect(sent).toEqual(['evalsha', 'get']);
      expect(Object.keys(await members('ada'))).toEqual([long]);
    });

    it('does not list a member whose session key was deleted behind its back, and drops it on read', async () => {
      const store = make();
      const [deleted, kept] = [sid(), sid()];
      await store.set(deleted, owned('ada'));
      await store.set(kept, owned('ada'));
      await admin.del(`sess:${deleted}`);
      expect(Object.keys(await members('ada')).sort()).toEqual([deleted, kept].sort());
      expect(await idsOf(store, 'ada')).toEqual([kept]);
      expect(Object.keys(await members('ada'))).toEqual([kept]);
    });

    it('does not list, nor destroy, a member whose record now names another user', async () => {
      const store = make();
      const [taken, rewritten] = [sid(), sid()];
      await store.set(taken, owned('ada'));
      await store.set(rewritten, owned('ada'));
      // Another writer gives one to bob; the store's own set is not told the previous user.
      await admin.set(`sess:${taken}`, JSON.stringify(owned('bob')), 'PX', 3_600_000);
      await store.set(rewritten, owned('bob'));
      expect(Object.keys(await members('ada')).sort()).toEqual([taken, rewritten].sort());
      await expect(store.destroyByUser('ada', undefined)).resolves.toBe(0);
      expect(await existing(`sess:${taken}`, `sess:${rewritten}`)).toBe(2);
      expect(await store.findByUser('ada')).toEqual([]);
      expect(await members('ada')).toEqual({});
      expect(await idsOf(store, 'bob')).toEqual([rewritten]);
    });

    it('does not list a member whose key holds no session', async () => {
      const store = make();
      const [text, hash, good] = [sid(), sid(), sid()];
      for (const id of [text, hash, good]) await store.set(id, owned('ada'));
      await admin.set(`sess:${text}`, 'not json', 'PX', 60_000);
      await admin.del(`sess:${hash}`);
      await admin.hset(`sess:${hash}`, 'f', 'v');
      expect(await idsOf(store, 'ada')).toEqual([good]);
      expect(Object.keys(await members('ada'))).toEqual([good]);
    });

    it("patch moves the session to its new user's index, and out of every index when it has none", async () => {
      const store = make();
      const id = sid();
      await store.set(id, owned('ada'));
      const asAda = await store.get(id);
      const asBob = owned('bob');
      await store.patch(id, change(asBob, { cookie: asBob.cookie }, [], asAda));
      // Looked at directly, not through findByUser, which would hide a stale member anyway.
      expect(await members('ada')).toEqual({});
      expect(Object.keys(await members('bob'))).toEqual([id]);
      const readByBob = await store.get(id);
      const anonymous = storedSession({});
      await store.patch(id, change(anonymous, { cookie: anonymous.cookie }, [], readByBob));
      expect(await existing(indexOf('ada'), indexOf('bob'))).toBe(0);
      expect(await store.get(id)).toEqual(anonymous);
    });

    it('a patch or touch of a session that is gone indexes nothing', async () => {
      const store = make();
      const id = sid();
      const session = owned('ada');
      await expect(store.touch(id, session)).resolves.toBe(false);
      await expect(store.patch(id, change(session, { cookie: session.cookie }))).resolves.toBe(
        false,
      );
      expect(await admin.exists(indexOf('ada'))).toBe(0);
    });

    it('destroyByUser ends every session of the user but the one kept, and says how many', async () => {
      const store = make();
      const [a, b, c, other] = [sid(), sid(), sid(), sid()];
      for (const id of [a, b, c]) await store.set(id, owned('ada'));
      await store.set(other, owned('bob'));
      await expect(store.destroyByUser('ada', b)).resolves.toBe(2);
      expect(await existing(`sess:${a}`, `sess:${c}`)).toBe(0);
      expect(await existing(`sess:${b}`, `sess:${other}`)).toBe(2);
      expect(Object.keys(await members('ada'))).toEqual([b]);
      await expect(store.destroyByUser('ada', undefined)).resolves.toBe(1);
      expect(await existing(`sess:${b}`, indexOf('ada'))).toBe(0);
      expect(await idsOf(store, 'bob')).toEqual([other]);
    });

    it('leaves the indexes out of ids, length and all, and clear removes them', async () => {
      const store = make();
      const [mine, anonymous] = [sid(), sid()];
      await store.set(mine, owned('ada'));
      await store.set(anonymous, storedSession({}));
      expect((await store.ids()).sort()).toEqual([mine, anonymous].sort());
      expect(await store.length()).toBe(2);
      expect(Object.keys(await store.all()).sort()).toEqual([mine, anonymous].sort());
      await store.clear();
      expect(await admin.exists(indexOf('ada'))).toBe(0);
    });

    it('with a custom serializer, keeps the index from the records it merges', async () => {
      const base64 = {
        stringify: (session: StoredSession) =>
          Buffer.from(JSON.stringify(session)).toString('base64'),
        parse: (text: string) => JSON.parse(Buffer.from(text, 'base64').toString()) as unknown,
      };
      const store = make({ serializer: base64 });
      const id = sid();
      await store.set(id, owned('ada'));
      expect(await idsOf(store, 'ada')).toEqual([id]);
      // Not told the previous user (no base): the merge finds it in the record it reads.
      const asBob = owned('bob');
      await store.patch(id, change(asBob, { cookie: asBob.cookie }));
      expect(await members('ada')).toEqual({});
      expect(await idsOf(store, 'bob')).toEqual([id]);
      await expect(store.destroyByUser('bob', undefined)).resolves.toBe(1);
      expect(await existing(`sess:${id}`, indexOf('bob'))).toBe(0);
    });

    it('a login costs at most 2 more round trips than without the index, a get none more', async () => {
      const store = make();
      await cacheScripts();
      const [anonymous, ada] = [sid(), sid()];
      const plainSet = await sentFor(() => store.set(anonymous, storedSession({ a: 1 })));
      const indexedSet = await sentFor(() => store.set(ada, owned('ada')));
      expect(plainSet).toEqual(['set']);
      expect(indexedSet.length - plainSet.length).toBeLessThanOrEqual(2);
      // Standalone: the session and its index in one script. Cluster: one more, on the index.
      expect(indexedSet).toEqual(given.cluster ? ['evalsha', 'evalsha'] : ['evalsha']);
      expect(await sentFor(() => store.get(ada))).toEqual(
        await sentFor(() => store.get(anonymous)),
      );
      expect(await sentFor(() => store.get(ada))).toEqual(['get']);
      // A write or touch of a session without a user costs what it did: one script.
      expect(await sentFor(() => store.touch(anonymous, storedSession({ a: 1 })))).toEqual([
        'evalsha',
      ]);
      expect(await sentFor(() => store.touch(ada, owned('ada')))).toEqual(
        given.cluster ? ['evalsha', 'evalsha'] : ['evalsha'],
      );
      // A change of user also leaves the previous index: on Cluster, a ZREM there.
      const read = await store.get(ada);
      const asBob = owned('bob');
      const moved = await sentFor(() =>
        store.patch(ada, change(asBob, { cookie: asBob.cookie }, [], read)),
      );
      expect(moved).toEqual(given.cluster ? ['evalsha', 'evalsha', 'zrem'] : ['evalsha']);
    });

    it('findByUser and destroyByUser read the index once and the records in one go (standalone) or one each (Cluster)', async () => {
      const store = make();
      await cacheScripts();
      const ids = [sid(), sid(), sid()];
      for (const id of ids) await store.set(id, owned('ada'));
      const reads = given.cluster ? ['get', 'get', 'get'] : ['mget'];
      expect(await sentFor(() => store.findByUser('ada'))).toEqual(['evalsha', ...reads].sort());
      // Destroying: the sessions (one DEL, or one each), then the index's prune script.
      const deletes = given.cluster ? ['del', 'del'] : ['del'];
      expect(await sentFor(() => store.destroyByUser('ada', ids[0]))).toEqual(
        ['evalsha', ...reads, ...deletes, 'evalsha'].sort(),
      );
    });
  });
}
