import Redis, { type Cluster } from 'ioredis';
import { applyChange, type StoredSession } from '../../lib/core/stored-session';
import { RedisStore, type RedisStoreClient, type RedisStoreOptions } from '../../lib/redis';
import { describeStoreContract } from '../stores/store-contract';
import { describeUserIndexContract } from '../stores/user-index-contract';
import { sid } from '../support/ids';
import { change, dataOf, storedSession } from '../support/records';
import { sleep } from '../support/time';
import { describeRedisUserIndex } from './redis-store.user-index';

/** A logger that remembers what it was told. */
export function recordingLogger() {
  const messages: string[] = [];
  return { messages, warn: (message: string) => void messages.push(message) };
}

/** Calls per command since the last `CONFIG RESETSTAT`, leaving out the inspection's own. */
export async function commandCalls(admin: Redis): Promise<Record<string, number>> {
  const info = (await admin.call('INFO', 'commandstats')) as string;
  const calls: Record<string, number> = {};
  for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(config|info)/.test(name!)) calls[name!] = Number(count);
  }
  return calls;
}

/** A small deterministic generator of awkward JSON values, so a failure can be replayed. */
function seeded(seed: number) {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(items: T[]): T => items[int(items.length)]!;
  const chars = Array.from('a"\\{}[]:, é😀/\n\u0000');
  const text = () => Array.from({ length: int(4) }, () => pick(chars)).join('');
  const key = () => `k${text()}`;
  const value = (depth: number): unknown => {
    switch (depth > 0 ? int(9) : int(6)) {
      case 0:
        return null;
      case 1:
        return int(2) === 0;
      case 2:
        return pick([0, -1, 0.1 + 0.2, 1e21, 2 ** 53 + 2, -5e-324, 123.456]);
      case 3:
      case 4:
      case 5:
        return text();
      case 6:
      case 7:
        return Array.from({ length: int(3) }, () => value(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: int(3) }, () => [key(), value(depth - 1)]));
    }
  };
  return { int, pick, key, value };
}

/** Data with every shape cjson would not give back as it was. */
export const awkwardData = {
  emptyList: [],
  emptyMap: {},
  nested: [[], {}, [1, [2, []]], { deep: [{}] }],
  float: 0.1 + 0.2,
  big: 2 ** 70,
  maxSafe: Number.MAX_SAFE_INTEGER,
  tiny: 5e-324,
  huge: -1.5e300,
  slash: 'a/b</script>',
  unicode: 'héllo ✓ 😀 ключ',
  escapes: 'quote " back \\ nl \n tab \t ctrl \u0001 \u2028',
  'key with "quotes"': 1,
  'back\\slash': 2,
  ключ: 3,
  nothing: null,
  yes: true,
  no: false,
  looksLikeJson: '{"a":[1,2]},"b":}',
  spacey: ' : , { } [ ] ',
};

/** The store contract, then the Redis specifics, for a client library on a standalone server. */
export function describeRedisStore(
  name: string,
  setup: () => { client: RedisStoreClient; admin: Redis; secondClient: RedisStoreClient },
): void {
  describeStoreContract(`RedisStore (${name})`, async () => {
    const { client, admin } = setup();
    await admin.flushall();
    return { store: new RedisStore({ client }) };
  });
  describeRedisStoreBehaviour(name, setup);
  describeUserIndexContract(`RedisStore (${name})`, async () => {
    const { client, admin } = setup();
    await admin.flushall();
    return { store: new RedisStore({ client }) };
  });
  describeRedisUserIndex(name, () => {
    const { client, admin } = setup();
    return {
      client,
      admin,
      ports: [admin.options.port!],
      cluster: false,
      flush: async () => void (await admin.flushall()),
    };
  });
}

/**
 * Redis-specific behaviour, run once per client kind against a standalone redis-server.
 * `admin` is an independent ioredis connection used only to look at what the store wrote.
 */
function describeRedisStoreBehaviour(
  name: string,
  setup: () => { client: RedisStoreClient; admin: Redis; secondClient: RedisStoreClient },
): void {
  describe(`RedisStore (${name}): Redis specifics`, () => {
    let client: RedisStoreClient;
    let admin: Redis;
    const make = (options: Partial<RedisStoreOptions> = {}) =>
      new RedisStore({ client, logger: false, ...options });

    beforeEach(async () => {
      ({ client, admin } = setup());
      await admin.flushall();
    });

    it('stores the JSON text of the session under sess:<id>, with a cookie key', async () => {
      const id = sid();
      const session = storedSession({ views: 2, user: { id: 'u1' } });
      await make().set(id, session);
      const raw = await admin.get(`sess:${id}`);
      expect(raw).toBe(JSON.stringify(session));
      expect(JSON.parse(raw!).cookie).toEqual(session.cookie);
    });

    it('keeps to its prefix: other keys in the same Redis are never listed nor cleared', async () => {
      await admin.set('other:1', 'x');
      await admin.set('sess', 'no colon');
      await admin.set('sessX:1', 'near miss');
      await admin.hset('app:hash-ish', 'f', 'v');
      const app = make({ prefix: 'app:sess:' });
      const plain = make();
      await app.set('a', storedSession({ n: 1 }));
      await app.set('b', storedSession({ n: 2 }));
      await plain.set('c', storedSession({ n: 3 }));
      expect((await app.ids()).sort()).toEqual(['a', 'b']);
      expect(await app.length()).toBe(2);
      expect(Object.keys(await app.all()).sort()).toEqual(['a', 'b']);
      expect(await plain.ids()).toEqual(['c']);
      await app.clear();
      expect(await app.length()).toBe(0);
      expect((await admin.keys('*')).sort()).toEqual(
        ['app:hash-ish', 'other:1', 'sess', 'sess:c', 'sessX:1'].sort(),
      );
    });

    it('treats glob characters in the prefix literally', async () => {
      const odd = make({ prefix: 'we*ird[1]?:' });
      await admin.set('weXird1X:zz', 'a key the unescaped pattern would match');
      await odd.set('a', storedSession());
      expect(await odd.ids()).toEqual(['a']);
      await odd.clear();
      expect(await admin.get('weXird1X:zz')).not.toBeNull();
    });

    it('lists with SCAN in small steps, never KEYS', async () => {
      const store = make({ scanCount: 2 });
      for (let i = 0; i < 7; i++) await store.set(`s${i}`, storedSession({ i }));
      await admin.call('CONFIG', 'RESETSTAT');
      expect(await store.length()).toBe(7);
      expect((await store.ids()).length).toBe(7);
      expect(Object.keys(await store.all())).toHaveLength(7);
      await store.clear();
      const calls = await commandCalls(admin);
      expect(calls.keys).toBeUndefined();
      expect(calls.scan).toBeGreaterThan(4);
    });

    it('spends one command on each of get, set, touch, patch and destroy', async () => {
      const store = make();
      const id = sid();
      const session = storedSession({ a: 1 });
      await store.patch(id, change(session, { a: 1 })); // loads the script
      // commandstats also counts what a script runs: patch and touch send one EVALSHA, whose GET
      // and SET happen inside Redis, not as round trips.
      const inScript = { evalsha: 1, get: 1, set: 1 };
      const cases: [() => Promise<unknown>, Record<string, number>][] = [
        [() => store.get(id), { get: 1 }],
        [() => store.set(id, session), { set: 1 }],
        [() => store.touch(id, session), inScript],
        [() => store.patch(id, change(session, { b: 2 }, [], session)), inScript],
        [() => store.destroy(id), { del: 1 }],
      ];
      for (const [run, expected] of cases) {
        await admin.call('CONFIG', 'RESETSTAT');
        await run();
        expect(await commandCalls(admin)).toEqual(expected);
      }
    });

    it('sets the key to expire with the cookie', async () => {
      const id = sid();
      await make().set(id, storedSession({}, 3_600_000));
      const pttl = await admin.pttl(`sess:${id}`);
      expect(pttl).toBeGreaterThan(3_600_000 - 10_000);
      expect(pttl).toBeLessThanOrEqual(3_600_000);
    });

    it('keeps a browser-session cookie for the ttl option, one day by default', async () => {
      await make().set('day', storedSession({}, null));
      await make({ ttl: 120_000 }).set('short', storedSession({}, null));
      expect(await admin.pttl('sess:day')).toBeGreaterThan(86_400_000 - 10_000);
      const short = await admin.pttl('sess:short');
      expect(short).toBeGreaterThan(110_000);
      expect(short).toBeLessThanOrEqual(120_000);
    });

    it('touch moves the expiry and the stored cookie, and leaves the data as it was', async () => {
      const id = sid();
      const store = make();
      await store.set(id, storedSession(awkwardData, 60_000));
      const before = JSON.parse((await admin.get(`sess:${id}`))!) as StoredSession;
      const later = storedSession({ a: 'ignored' }, 3_600_000);
      await store.touch(id, later);
      expect(await admin.get(`sess:${id}`)).toBe(
        JSON.stringify({ ...before, cookie: later.cookie }),
      );
      expect(await admin.pttl(`sess:${id}`)).toBeGreaterThan(3_600_000 - 10_000);
    });

    it('touch never brings back a session that is gone: it resolves false', async () => {
      const store = make();
      await expect(store.touch('gone', storedSession({ a: 1 }))).resolves.toBe(false);
      expect(await admin.exists('sess:gone')).toBe(0);
    });

    it('hides a session whose cookie has expired even while its key lives on', async () => {
      const store = make();
      await admin.set('sess:stale', JSON.stringify(storedSession({ a: 1 }, -1_000)), 'PX', 60_000);
      expect(await store.get('stale')).toBeNull();
    });

    it('deletes rather than writes a session that has already expired', async () => {
      const store = make();
      for (const write of [
        (id: string) => store.set(id, storedSession({ b: 1 }, -1_000)),
        (id: string) => store.touch(id, storedSession({}, -1_000)),
        (id: string) => store.patch(id, change(storedSession({}, -1_000), { b: 1 })),
      ]) {
        const id = sid();
        await store.set(id, storedSession({ a: 1 }));
        await write(id);
        expect(await admin.exists(`sess:${id}`)).toBe(0);
      }
    });

    it('patch keeps every value byte for byte, and merges exactly as applyChange does', async () => {
      const id = sid();
      const store = make();
      await store.set(id, storedSession(awkwardData));
      const current = JSON.parse((await admin.get(`sess:${id}`))!) as StoredSession;
      const next = change(
        storedSession({}),
        { float: 0.7, addedList: [], 'key with "quotes"': { x: [] }, ключ: '/', nested: [[]] },
        ['yes', 'back\\slash', 'not there'],
      );
      await store.patch(id, next);
      const raw = await admin.get(`sess:${id}`);
      expect(raw).toBe(JSON.stringify(applyChange(current, next)));
    });

    it('patch merges random documents exactly as applyChange does', async () => {
      const store = make();
      const random = seeded(42);
      for (let round = 0; round < 150; round++) {
        const id = `fuzz${round}`;
        const data: Record<string, unknown> = {};
        for (let i = random.int(8); i >= 0; i--) data[random.key()] = random.value(3);
        await store.set(id, storedSession(data));
        const current = JSON.parse((await admin.get(`sess:${id}`))!) as StoredSession;
        const set: Record<string, unknown> = {};
        for (let i = random.int(4); i >= 0; i--)
          set[random.pick([...Object.keys(data), random.key()])] = random.value(3);
        const unset = Object.keys(data).filter(() => random.int(4) === 0);
        const next = change(storedSession({}), set, unset);
        await store.patch(id, next);
        expect(await admin.get(`sess:${id}`)).toBe(JSON.stringify(applyChange(current, next)));
      }
    });

    it('patch treats a value JSON leaves out as a removed key', async () => {
      const id = sid();
      const store = make();
      await store.set(id, storedSession({ a: 1, b: 2 }));
      await store.patch(id, change(storedSession({ a: 1 }), { b: undefined, c: 3 }));
      expect(dataOf(await store.get(id))).toEqual({ a: 1, c: 3 });
    });

    it('patch sets the expiry from the session it is given', async () => {
      const id = sid();
      const store = make();
      await store.set(id, storedSession({ a: 1 }, 60_000));
      const later = storedSession({ a: 1 }, 3_600_000);
      await store.patch(id, change(later, { cookie: later.cookie }));
      expect(await admin.pttl(`sess:${id}`)).toBeGreaterThan(3_600_000 - 10_000);
      expect((await store.get(id))!.cookie).toEqual(later.cookie);
    });

    it('patch loads its script again when Redis has forgotten it', async () => {
      const id = sid();
      const store = make();
      await store.set(id, storedSession({ a: 1 }));
      await store.patch(id, change(storedSession({ a: 2 }), { a: 2 }));
      await admin.script('FLUSH');
      await store.patch(id, change(storedSession({ a: 3 }), { a: 3 }));
      expect(dataOf(await store.get(id))).toEqual({ a: 3 });
    });

    it('two app instances changing different keys of one session both keep their change', async () => {
      const { secondClient } = setup();
      const one = make();
      const two = new RedisStore({ client: secondClient, logger: false });
      const id = sid();
      await one.set(id, storedSession({ shared: 0 }));
      const reads = await Promise.all([one.get(id), two.get(id)]);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const store = i % 2 ? two : one;
          const session = storedSession({ shared: 0, [`k${i}`]: i });
          return store.patch(id, change(session, { [`k${i}`]: i }, [], reads[i % 2]!));
        }),
      );
      const keys = Object.keys((await one.get(id))!).filter((key) => key.startsWith('k'));
      expect(keys).toHaveLength(20);
    });

    it('the later of two changes to the same key wins', async () => {
      const store = make();
      const id = sid();
      await store.set(id, storedSession({ theme: 'light' }));
      const [first, second] = await Promise.all([store.get(id), store.get(id)]);
      await store.patch(id, change(storedSession({ theme: 'dark' }), { theme: 'dark' }, [], first));
      await store.patch(
        id,
        change(storedSession({ theme: 'blue' }), { theme: 'blue' }, [], second),
      );
      expect((await store.get(id))!.theme).toBe('blue');
    });

    it('answers null, with a warning, for data that is not a session', async () => {
      const logger = recordingLogger();
      const store = make({ logger });
      const bad = {
        text: 'not json',
        empty: '',
        array: '[1,2]',
        string: '"a string"',
        number: '42',
        nullish: 'null',
        noCookie: '{"a":1}',
        badCookie: '{"cookie":5}',
      };
      for (const [id, value] of Object.entries(bad)) await admin.set(`sess:${id}`, value);
      await admin.hset('sess:hash', 'f', 'v');
      await store.set('good', storedSession({ ok: true }));
      for (const id of [...Object.keys(bad), 'hash']) {
        await expect(store.get(id)).resolves.toBeNull();
      }
      expect(logger.messages).toHaveLength(Object.keys(bad).length + 1);
      expect(logger.messages.every((m) => m.startsWith('RedisStore: session '))).toBe(true);
      expect(Object.keys(await store.all())).toEqual(['good']);
    });

    it('never writes a whole session id into a warning', async () => {
      const logger = recordingLogger();
      const id = sid();
      await admin.set(`sess:${id}`, 'not json');
      await make({ logger }).get(id);
      expect(logger.messages[0]).not.toContain(id);
    });

    describeRecordsCjsonCannotRead(name, () => ({ client, admin }));

    describe('with a custom serializer', () => {
      // Not JSON on the wire, so the Lua merge cannot read it: patch takes the compare-and-set path.
      const base64 = {
        stringify: (session: StoredSession) =>
          Buffer.from(JSON.stringify(session)).toString('base64'),
        parse: (text: string) => JSON.parse(Buffer.from(text, 'base64').toString()) as unknown,
      };

      it('stores what it produces and reads it back', async () => {
        const store = make({ serializer: base64 });
        const session = storedSession({ a: [1, {}] });
        await store.set('x', session);
        expect(await admin.get('sess:x')).toBe(base64.stringify(session));
        expect(await store.get('x')).toEqual(session);
      });

      it('patch keeps the changes of requests that read the same record', async () => {
        const store = make({ serializer: base64 });
        const id = sid();
        await store.set(id, storedSession({ a: 0, b: 0, gone: 1 }));
        const [first, second] = await Promise.all([store.get(id), store.get(id)]);
        await store.patch(id, change(storedSession({ a: 1, b: 0 }), { a: 1 }, ['gone'], first));
        await store.patch(id, change(storedSession({ a: 0, b: 2, gone: 1 }), { b: 2 }, [], second));
        expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
      });

      it('patch merges onto a record this store did not read', async () => {
        const store = make({ serializer: base64 });
        const id = sid();
        await store.set(id, storedSession({ a: 1 }));
        const foreign = storedSession({ a: 1 });
        const patched = store.patch(
          id,
          change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], foreign),
        );
        await expect(patched).resolves.toBe(true);
        expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
      });

      it('patch and touch reject over data the serializer cannot read, and leave it', async () => {
        const store = make({ serializer: base64 });
        await admin.set('sess:bad', '%%%');
        const session = storedSession({ c: 3 });
        await expect(store.patch('bad', change(session, { c: 3 }))).rejects.toThrow(
          'RedisStore: session bad… is not a session (not readable by the serializer)',
        );
        await expect(store.touch('bad', session)).rejects.toThrow(/is not a session/);
        expect(await admin.get('sess:bad')).toBe('%%%');
        await admin.hset('sess:hash', 'f', 'v');
        await expect(store.patch('hash', change(session, { c: 3 }))).rejects.toThrow(/WRONGTYPE/);
        expect(await admin.hgetall('sess:hash')).toEqual({ f: 'v' });
      });

      it('patch never brings back a session destroyed or expired since it was read', async () => {
        const store = make({ serializer: base64 });
        const [destroyed, stale] = [sid(), sid()];
        await store.set(destroyed, storedSession({ a: 1 }));
        const read = await store.get(destroyed);
        await store.destroy(destroyed);
        const later = storedSession({ a: 1, b: 2 });
        await expect(store.patch(destroyed, change(later, { b: 2 }, [], read))).resolves.toBe(
          false,
        );
        expect(await admin.exists(`sess:${destroyed}`)).toBe(0);
        // The key outlives its cookie (another writer's TTL): the cookie decides, as for get().
        const text = base64.stringify(storedSession({ a: 1 }, -1_000));
        await admin.set(`sess:${stale}`, text, 'PX', 60_000);
        await expect(store.patch(stale, change(later, { b: 2 }))).resolves.toBe(false);
        await expect(store.touch(stale, later)).resolves.toBe(false);
        expect(await admin.get(`sess:${stale}`)).toBe(text);
      });

      it('touch stores the new cookie, and leaves a gone session gone', async () => {
        const store = make({ serializer: base64 });
        await store.set('x', storedSession({ a: 1 }, 60_000));
        const later = storedSession({}, 3_600_000);
        await expect(store.touch('x', later)).resolves.toBe(true);
        expect(await store.get('x')).toEqual({ a: 1, cookie: later.cookie });
        expect(await admin.pttl('sess:x')).toBeGreaterThan(3_600_000 - 10_000);
        await expect(store.touch('gone', later)).resolves.toBe(false);
        expect(await admin.exists('sess:gone')).toBe(0);
      });

      it('patch of a record read before it expired lands when a touch has extended it since', async () => {
        const store = make({ serializer: base64 });
        const id = sid();
        await store.set(id, storedSession({ a: 1 }, 300));
        const read = await store.get(id);
        await store.touch(id, storedSession({}, 3_600_000));
        await sleep(500);
        const patched = store.patch(id, change(storedSession({ a: 1, b: 2 }), { b: 2 }, [], read));
        await expect(patched).resolves.toBe(true);
        expect(dataOf(await store.get(id))).toEqual({ a: 1, b: 2 });
      });

      it('patches racing on one record all land', async () => {
        const store = make({ serializer: base64 });
        const id = sid();
        await store.set(id, storedSession({}));
        const reads = await Promise.all(Array.from({ length: 8 }, () => store.get(id)));
        await Promise.all(
          reads.map((read, i) =>
            store.patch(id, change(storedSession({ [`k${i}`]: i }), { [`k${i}`]: i }, [], read)),
          ),
        );
        const keys = Object.keys((await store.get(id))!).filter((key) => key !== 'cookie');
        expect(keys.sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']);
      });
    });
  });
}

/** A record cjson.decode refuses, though JSON.parse reads it: what the Lua merge must handle. */
function recordsCjsonCannotRead(): [string, StoredSession][] {
  const cut = '😀'.slice(0, 1); // a lone high surrogate: half an emoji cut by .slice()
  let deep: unknown = 'bottom';
  for (let level = 0; level < 1_100; level++) deep = level % 2 ? { d: deep } : [deep];
  return [
    ['a lone surrogate in a value', storedSession({ a: 1, name: `ada ${cut}`, list: [] })],
    ['a lone surrogate in a key', storedSession({ a: 1, [cut]: 1, [`k\udc00${cut}`]: [] })],
    ['nesting 1100 levels deep', storedSession({ a: 1, deep, after: { x: 0.1 + 0.2 } })],
  ];
}

/** What a key may hold that is not a session, as raw text (or a hash when `null`). */
const NOT_SESSIONS: [string, string | null][] = [
  ['text that is not JSON', 'not json'],
  ['an empty string', ''],
  ['a JSON array', '[1]'],
  ['JSON null', 'null'],
  ['an object without a cookie', '{"a":1}'],
  ['an object whose cookie is not an object', '{"a":1,"cookie":5}'],
  ['an object cut short', '{"a":1,"cookie":{"originalMaxAge":1000}'],
  ['an object with text after it', '{"cookie":{}} {"a":1}'],
  ['an object with a trailing comma', '{"cookie":{},}'],
  ['a bad literal', '{"a":tru,"cookie":{}}'],
  ['mismatched brackets', '{"a":[1},"cookie":{}}'],
  ['a string never closed', '{"cookie":{},"a":"open'],
  ['a hash, not a string', null],
];

/**
 * patch and touch on records that defeat a cjson-based merge, and on keys that hold no session;
 * run on each client, standalone and Cluster. `admin` reads and writes keys behind the store.
 */
export function describeRecordsCjsonCannotRead(
  name: string,
  setup: () => { client: RedisStoreClient; admin: Redis | Cluster },
): void {
  describe(`RedisStore (${name}): records cjson cannot read, and keys that hold no session`, () => {
    let admin: Redis | Cluster;
    let store: RedisStore;
    beforeEach(() => {
      const given = setup();
      admin = given.admin;
      store = new RedisStore({ client: given.client, logger: false });
    });

    it.each(recordsCjsonCannotRead())(
      'patch merges into a record holding %s, and keeps the rest byte for byte',
      async (_what, record) => {
        const id = sid();
        await store.set(id, record);
        const current = JSON.parse((await admin.get(`sess:${id}`))!) as StoredSession;
        const keys = Object.keys(record).filter((key) => key !== 'a' && key !== 'cookie');
        const next = change(storedSession({}), { added: [], [keys[0]!]: 'replaced' }, ['a']);
        await expect(store.patch(id, next)).resolves.toBe(true);
        expect(await admin.get(`sess:${id}`)).toBe(JSON.stringify(applyChange(current, next)));
        expect(dataOf(await store.get(id))).toEqual(dataOf(applyChange(current, next)));
      },
    );

    it.each(recordsCjsonCannotRead())(
      'touch of a record holding %s extends its TTL and stores the new cookie',
      async (_what, record) => {
        const id = sid();
        await store.set(id, { ...record, cookie: storedSession({}, 60_000).cookie });
        const before = JSON.parse((await admin.get(`sess:${id}`))!) as StoredSession;
        const later = storedSession({ a: 'not written' }, 3_600_000);
        await expect(store.touch(id, later)).resolves.toBe(true);
        expect(await admin.get(`sess:${id}`)).toBe(
          JSON.stringify({ ...before, cookie: later.cookie }),
        );
        expect(await admin.pttl(`sess:${id}`)).toBeGreaterThan(3_600_000 - 10_000);
      },
    );

    it.each(NOT_SESSIONS)(
      'patch and touch reject for a key holding %s, and leave it as it was',
      async (_what, text) => {
        const id = sid();
        const key = `sess:${id}`;
        if (text === null) await admin.hset(key, 'f', 'v');
        else await admin.set(key, text);
        const session = storedSession({ a: 2 });
        const refused = new RegExp(`^RedisStore: session ${id.slice(0, 6)}… is not a session \\(`);
        await expect(store.patch(id, change(session, { a: 2 }))).rejects.toThrow(refused);
        await expect(store.patch(id, change(session, { a: 2 }, [], session))).rejects.toThrow(
          refused,
        );
        await expect(store.touch(id, session)).rejects.toThrow(refused);
        if (text === null) expect(await admin.hgetall(key)).toEqual({ f: 'v' });
        else expect(await admin.get(key)).toBe(text);
        expect(await admin.pttl(key)).toBe(-1);
      },
    );

    it('patch and touch leave alone a key that outlives its cookie: false, as get() says null', async () => {
      const id = sid();
      const text = JSON.stringify(storedSession({ a: 1 }, -1_000));
      await admin.set(`sess:${id}`, text, 'PX', 60_000);
      const later = storedSession({ a: 1, b: 2 });
      await expect(store.patch(id, change(later, { b: 2 }))).resolves.toBe(false);
      await expect(store.touch(id, later)).resolves.toBe(false);
      expect(await admin.get(`sess:${id}`)).toBe(text);
    });
  });
}
