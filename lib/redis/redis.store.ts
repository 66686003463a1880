import { createHash } from 'node:crypto';
import { withCallback, type NodeCallback } from '../core/callback';
import {
  applyChange,
  DEFAULT_STORE_TTL_MS,
  expiresAt,
  isExpired,
  type SessionChange,
  type StoredSession,
} from '../core/stored-session';
import { ConnectCompatibleStore } from '../stores/connect-store.base';
import type { SessionStore } from '../stores/session-store.interface';

/** The part of an ioredis `Redis` or `Cluster` (v5 or later) that the store drives. */
export interface IoRedisClientLike {
  call(command: string, ...args: (string | number | Buffer)[]): Promise<unknown>;
  status: string;
  isCluster?: boolean;
  options?: { keyPrefix?: string };
  nodes?(role?: 'master' | 'slave' | 'all'): IoRedisClientLike[];
}

/** The part of a node-redis client (`createClient()`, v4 or later) that the store drives. */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  isOpen: boolean;
  isReady: boolean;
}

/** The part of a node-redis cluster (`createCluster()`, v4 or later) that the store drives. */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  readonly masters: readonly unknown[];
  nodeClient(node: unknown): unknown;
  isOpen: boolean;
  isReady: boolean;
}

/**
 * A Redis client {@link RedisStore} accepts: described by shape, so that neither `ioredis` nor
 * `redis` has to be installed for these types to resolve.
 */
export type RedisStoreClient = IoRedisClientLike | NodeRedisClientLike | NodeRedisClusterLike;

/** Turns sessions into the text stored in Redis and back (`JSON` unless given). */
export interface RedisStoreSerializer {
  parse(text: string): unknown;
  stringify(session: StoredSession): string;
}

/** Where the store reports data it had to ignore; Nest's `Logger` and `console` both fit. */
export interface RedisStoreLogger {
  warn(message: string): unknown;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * The app's own client: ioredis `Redis` (standalone or Sentinel) or `Cluster`, or node-redis
   * `createClient()` / `createCluster()`, connected (node-redis) or connecting. The store sends
   * raw commands through it and never closes it.
   */
  client: RedisStoreClient;
  /**
   * Put in front of each session id to make its key. Keys outside the prefix are never read,
   * listed or deleted, so a Redis shared with other data is safe.
   * @default 'sess:'
   */
  prefix?: string;
  /**
   * How long (ms, not seconds as in connect-redis) a session whose cookie has no expiry (a
   * browser-session cookie) is kept. Other sessions live exactly as long as their cookie.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * A replacement for `JSON` (connect-redis's `serializer` fits). With one, `patch` and `touch`
   * cannot merge inside Redis: they merge in the app and write with a compare-and-set script,
   * retrying on a concurrent write: one round trip when nothing raced, plus a `GET` first when
   * the record was not read by this store (always so for `touch`).
   * @default JSON
   */
  serializer?: RedisStoreSerializer;
  /**
   * The `COUNT` hint of each `SCAN` done by `ids`, `length`, `all` and `clear`.
   * @default 100
   */
  scanCount?: number;
  /**
   * Told when a key holds something that is not a session (not JSON, wrong shape); `get`
   * then answers `null`. `false` keeps quiet.
   * @default console
   */
  logger?: RedisStoreLogger | false;
}

type Send = (args: string[]) => Promise<unknown>;

/** One way of talking to each kind of client, chosen once in the constructor. */
interface Driver {
  /** Sends a command to the node that owns `key`. */
  send(key: string, args: string[]): Promise<unknown>;
  /** A sender per master, for SCAN. */
  masters(): Promise<Send[]>;
  /** Whether the client can take a command now, and in what words to say why not. */
  state(): ['ready' | 'starting' | 'down', string];
  /** Text the client itself puts in front of every key (ioredis `keyPrefix`). */
  keyPrefix: string;
}

/**
 * Merges one request's change into the stored JSON text. Values are spliced in as the JSON text
 * Node wrote, and untouched values are copied byte for byte: decoding and re-encoding them with
 * cjson would turn `[]` into `{}`, round numbers to 14 digits and escape `/`.
 * KEYS[1] key; ARGV: px, whole session to write when the record is gone or bad ('' to write
 * nothing then), n, n × (key, key as JSON, value as JSON), unset keys.
 */
const PATCH_LUA = String.raw`
local s = redis.pcall('GET', KEYS[1])
local out = ARGV[2]
local ok, doc = false, nil
if type(s) == 'string' then ok, doc = pcall(cjson.decode, s) end
if ok and type(doc) == 'table' and type(doc.cookie) == 'table' then
  local n, set, order, drop = tonumber(ARGV[3]), {}, {}, {}
  for i = 0, n - 1 do
    local k = ARGV[4 + i * 3]
    set[k] = ARGV[5 + i * 3] .. ':' .. ARGV[6 + i * 3]
    order[#order + 1] = k
  end
  for i = 4 + n * 3, #ARGV do drop[ARGV[i]] = true end
  local function ws(i) return string.find(s, '[^ \t\r\n]', i) end
  local function str(i)
    local j = i + 1
    while true do
      local q = string.find(s, '["\\]', j)
      if string.byte(s, q) == 92 then j = q + 2 else return q + 1 end
    end
  end
  local function val(i)
    local c = string.byte(s, i)
    if c == 34 then return str(i) end
    if c ~= 123 and c ~= 91 then return string.find(s, '[,}%]%s]', i) end
    local depth, j = 0, i
    while true do
      local k = string.find(s, '[%[%]{}"]', j)
      local b = string.byte(s, k)
      if b == 34 then j = str(k) else
        if b == 123 or b == 91 then depth = depth + 1 else depth = depth - 1 end
        j = k + 1
        if depth == 0 then return j end
      end
    end
  end
  local parts, at = {}, {}
  local i = ws(ws(1) + 1)
  while string.byte(s, i) == 34 do
    local e = str(i)
    local raw = string.sub(s, i, e - 1)
    local k = string.find(raw, '\\', 1, true) and cjson.decode(raw) or string.sub(raw, 2, -2)
    local v = ws(ws(e) + 1)
    local ve = val(v)
    local text = set[k] or raw .. ':' .. string.sub(s, v, ve - 1)
    if not drop[k] then
      if at[k] then parts[at[k]] = text else parts[#parts + 1] = text; at[k] = #parts end
    end
    i = ws(ve)
    if string.byte(s, i) == 44 then i = ws(i + 1) end
  end
  for _, k in ipairs(order) do
    if not at[k] then parts[#parts + 1] = set[k]; at[k] = #parts end
  end
  out = '{' .. table.concat(parts, ',') .. '}'
elseif out == '' then
  return 0
end
redis.call('SET', KEYS[1], out, 'PX', ARGV[1])
return 1
`;

/** Compare-and-set for custom serializers: writes only if the key still holds what was read. */
const CAS_LUA = String.raw`
local cur = redis.pcall('GET', KEYS[1])
if type(cur) ~= 'string' then cur = false end
if (ARGV[1] == '1') ~= (cur ~= false) or (cur and cur ~= ARGV[2]) then return cur or 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
`;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const SCRIPTS = { patch: [PATCH_LUA, sha1(PATCH_LUA)], cas: [CAS_LUA, sha1(CAS_LUA)] } as const;
const CAS_ATTEMPTS = 10;

/**
 * A session store on Redis, for apps that run as many processes or machines: they all see the
 * same sessions. Each session is one key, `prefix` + id, holding the JSON text of the session
 * (its data plus a `cookie` key, as express-session and connect-redis store it) with Redis's own
 * TTL set from the cookie's expiry. The client is the app's own ioredis `Redis` or `Cluster`, or
 * node-redis `createClient()` / `createCluster()` (v4 or later); the store never closes it.
 *
 * One command per call: `get` is a GET, `set` a SET … PX, `destroy` a DEL, and `patch` one Lua
 * script (EVALSHA) that merges a request's changed keys into the record as it is now, so
 * concurrent requests changing different keys of one session all keep their change; `touch` is
 * that script too, changing only the stored cookie along with the TTL so the two agree.
 *
 * While the client is not connected every call rejects at once, rather than waiting in the
 * client's offline queue; the first call after the client reconnects goes through. Also an
 * express-session store (`session({ store })`).
 *
 * @publicApi
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisStore } from '@tessera/session/redis';
 *
 * SessionModule.forRoot({ secret, store: new RedisStore({ client: new Redis(process.env.REDIS_URL) }) })
 * ```
 */
export class RedisStore extends ConnectCompatibleStore implements SessionStore {
  /** The key prefix, `sess:` unless given. */
  readonly prefix: string;
  private readonly ttl: number;
  private readonly scanCount: number;
  private readonly serializer?: RedisStoreSerializer;
  private readonly logger: RedisStoreLogger | undefined;
  private readonly driver: Driver;
  /** With a serializer: the text each `get` read, by the object it returned (see patchBySwap). */
  private readonly read = new WeakMap<object, string>();
  private seenReady = false;

  constructor(options: RedisStoreOptions) {
    super();
    this.driver = driverFor(options?.client);
    this.prefix = options.prefix ?? 'sess:';
    this.ttl = options.ttl ?? DEFAULT_STORE_TTL_MS;
    this.scanCount = options.scanCount ?? 100;
    this.serializer = options.serializer;
    this.logger = options.logger === false ? undefined : (options.logger ?? console);
    if (!(this.ttl > 0)) {
      throw new TypeError(
        `RedisStore option "ttl" must be a positive number of ms, got ${String(options.ttl)}`,
      );
    }
    if (!(Number.isInteger(this.scanCount) && this.scanCount > 0)) {
      throw new TypeError(
        `RedisStore option "scanCount" must be a positive integer, got ${String(options.scanCount)}`,
      );
    }
  }

  get(sid: string, callback?: NodeCallback<StoredSession | null>): Promise<StoredSession | null> {
    return withCallback(this.getNow(sid), callback);
  }

  set(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
    return withCallback(this.setNow(sid, session), callback);
  }

  touch(sid: string, session: StoredSession, callback?: NodeCallback): Promise<void> {
    return withCallback(this.touchNow(sid, session), callback);
  }

  /** Applies one request's change to the record as it is now, atomically, in one command. */
  patch(sid: string, change: SessionChange, callback?: NodeCallback): Promise<void> {
    return withCallback(this.patchNow(sid, change), callback);
  }

  destroy(sid: string, callback?: NodeCallback): Promise<void> {
    return withCallback(this.del(this.prefix + sid), callback);
  }

  length(callback?: NodeCallback<number>): Promise<number> {
    return withCallback(
      this.keys().then((keys) => keys.size),
      callback,
    );
  }

  ids(callback?: NodeCallback<string[]>): Promise<string[]> {
    const ids = this.keys().then((keys) => [...keys].map((key) => key.slice(this.prefix.length)));
    return withCallback(ids, callback);
  }

  /** Every live session by id; records that cannot be read are left out (and logged). */
  all(
    callback?: NodeCallback<Record<string, StoredSession>>,
  ): Promise<Record<string, StoredSession>> {
    return withCallback(this.allNow(), callback);
  }

  /** Removes every key under `prefix`, found with SCAN on every master; other keys stay. */
  clear(callback?: NodeCallback): Promise<void> {
    return withCallback(this.clearNow(), callback);
  }

  private async getNow(sid: string): Promise<StoredSession | null> {
    const key = this.prefix + sid;
    const text = await this.command(key, ['GET', key]).catch((err: Error) => {
      // Something else than a string under the key is bad data too, not an outage.
      if (!String(err?.message).startsWith('WRONGTYPE')) throw err;
      this.logger?.warn(`RedisStore: session ${redact(sid)} is not a string key, ignored`);
      return null;
    });
    const session = text == null ? null : await this.decode(sid, String(text));
    // The TTL normally gets there first; the cookie decides when clocks or writers disagree.
    return session && !isExpired(session) ? session : null;
  }

  private async setNow(sid: string, session: StoredSession): Promise<void> {
    const text = this.encode(session);
    const px = this.pxOf(session);
    if (px <= 0) return this.del(this.prefix + sid);
    await this.command(this.prefix + sid, ['SET', this.prefix + sid, text, 'PX', String(px)]);
  }

  /**
   * Moves the expiry and stores the new cookie with it, so that the record's `cookie.expires` and
   * the key's TTL agree: a patch of the `cookie` key alone that never recreates a gone session.
   */
  private async touchNow(sid: string, session: StoredSession): Promise<void> {
    const touch = { set: { cookie: session.cookie }, unset: [], session, base: null };
    return this.patchNow(sid, touch, false);
  }

  private async patchNow(sid: string, change: SessionChange, create = true): Promise<void> {
    const whole = create ? this.encode(change.session) : '';
    const px = this.pxOf(change.session);
    if (px <= 0) return this.del(this.prefix + sid);
    if (this.serializer) return this.patchBySwap(sid, change, px, create);
    const set: string[] = [];
    const unset = [...change.unset];
    for (const [key, value] of Object.entries(change.set)) {
      const json = JSON.stringify(value);
      // A value JSON leaves out (undefined, a function) removes the key, as JSON.stringify would.
      if (json === undefined) unset.push(key);
      else set.push(key, JSON.stringify(key), json);
    }
    const args = [String(px), whole, String(set.length / 3), ...set, ...unset];
    await this.script('patch', this.prefix + sid, args);
  }

  /**
   * Lua cannot read a custom serializer's text, so the merge happens here and a compare-and-set
   * script writes it only if the key still holds the text the merge started from; on a conflict
   * the script answers the current text and the merge starts again from that.
   */
  private async patchBySwap(sid: string, change: SessionChange, px: number, create: boolean) {
    const key = this.prefix + sid;
    // What the key held when this request read it: remembered by get(), or asked for now.
    let seen = change.base ? this.read.get(change.base) : create ? null : undefined;
    if (seen === undefined) seen = (await this.command(key, ['GET', key])) as string | null;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = seen == null ? null : await this.decode(sid, String(seen));
      if (!current && !create) return;
      const text = this.encode(applyChange(current, change));
      const args = [seen == null ? '0' : '1', String(seen ?? ''), text, String(px)];
      const reply = await this.script('cas', key, args);
      if (reply === 1) return;
      seen = reply === 0 ? null : String(reply);
    }
    throw new Error(
      `RedisStore: patch of session ${redact(sid)} lost ${CAS_ATTEMPTS} races in a row`,
    );
  }

  private async allNow(): Promise<Record<string, StoredSession>> {
    const sessions: Record<string, StoredSession> = {};
    const ids = [...(await this.keys())].map((key) => key.slice(this.prefix.length));
    const found = await Promise.all(ids.map((sid) => this.getNow(sid)));
    for (const [i, sid] of ids.entries()) if (found[i]) sessions[sid] = found[i];
    return sessions;
  }

  private async clearNow(): Promise<void> {
    // One DEL per key: a cluster refuses a multi-key DEL across slots.
    await Promise.all([...(await this.keys())].map((key) => this.del(key)));
  }

  private async del(key: string): Promise<void> {
    await this.command(key, ['DEL', key]);
  }

  /** Every key under the prefix (as the client names it), by SCAN, never KEYS, on each master. */
  private async keys(): Promise<Set<string>> {
    const found = new Set<string>();
    const { keyPrefix } = this.driver;
    const match = (keyPrefix + this.prefix).replace(/[*?[\]\\]/g, '\\$&') + '*';
    this.check();
    for (const send of await this.driver.masters()) {
      let cursor = '0';
      do {
        const args = ['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.scanCount)];
        const [next, batch] = (await send(args)) as [unknown, unknown[]];
        for (const key of batch) found.add(String(key).slice(keyPrefix.length));
        cursor = String(next);
      } while (cursor !== '0');
    }
    return found;
  }

  private async script(name: keyof typeof SCRIPTS, key: string, args: string[]): Promise<unknown> {
    const [lua, sha] = SCRIPTS[name];
    try {
      return await this.command(key, ['EVALSHA', sha, '1', key, ...args]);
    } catch (err) {
      // Redis forgets scripts on restart or SCRIPT FLUSH, and each cluster node keeps its own.
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return this.command(key, ['EVAL', lua, '1', key, ...args]);
    }
  }

  private command(key: string, args: string[]): Promise<unknown> {
    this.check();
    return this.driver.send(key, args);
  }

  /**
   * Refuses a command while the client is not connected: in the client's offline queue it would
   * wait out the client's whole retry budget, and could still land after the caller gave up. A
   * client that has never been ready is let through, to be sent once its first connect ends.
   */
  private check(): void {
    const [state, words] = this.driver.state();
    if (state === 'ready') this.seenReady = true;
    else if (state === 'down' || this.seenReady) {
      throw new Error(`RedisStore: Redis is unavailable (${words}); the command was not sent`);
    }
  }

  private async decode(sid: string, text: string): Promise<StoredSession | null> {
    let value: unknown;
    try {
      value = this.serializer ? await this.serializer.parse(text) : JSON.parse(text);
    } catch (err) {
      this.logger?.warn(
        `RedisStore: session ${redact(sid)} is not readable, ignored: ${String(err)}`,
      );
      return null;
    }
    if (!isObject(value) || !isObject(value.cookie)) {
      this.logger?.warn(
        `RedisStore: session ${redact(sid)} is not an object with a cookie, ignored`,
      );
      return null;
    }
    if (this.serializer) this.read.set(value, text);
    return value as StoredSession;
  }

  private encode(session: StoredSession): string {
    return this.serializer ? this.serializer.stringify(session) : JSON.stringify(session);
  }

  private pxOf(session: StoredSession): number {
    const now = Date.now();
    return Math.ceil(expiresAt(session, this.ttl, now) - now);
  }
}

/** Enough of an id to find it in Redis, not enough to use it: logs are read by many. */
function redact(sid: string): string {
  return `${sid.slice(0, 6)}…`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function driverFor(client: RedisStoreClient | undefined): Driver {
  if (client && 'call' in client && 'status' in client) {
    const call = (node: IoRedisClientLike) => (args: string[]) =>
      node.call(args[0]!, ...args.slice(1));
    return {
      send: (_key, args) => call(client)(args),
      masters: async () => (client.isCluster ? client.nodes!('master') : [client]).map(call),
      // 'wait' is a lazyConnect client: its first command is what connects it.
      state: () => [
        ['ready', 'wait'].includes(client.status)
          ? 'ready'
          : client.status.startsWith('connect')
            ? 'starting'
            : 'down',
        `ioredis status "${client.status}"`,
      ],
      keyPrefix: client.options?.keyPrefix ?? '',
    };
  }
  if (client && 'masters' in client) {
    return {
      // Reads go to masters too: a replica may not have the write of the previous request yet.
      send: (key, args) => client.sendCommand(key, false, args),
      masters: async () => {
        const nodes = await Promise.all(client.masters.map((master) => client.nodeClient(master)));
        return (nodes as NodeRedisClientLike[]).map((node) => (args) => node.sendCommand(args));
      },
      state: () => nodeRedisState(client, 'cluster'),
      keyPrefix: '',
    };
  }
  if (client && 'sendCommand' in client) {
    return {
      send: (_key, args) => client.sendCommand(args),
      masters: async () => [(args) => client.sendCommand(args)],
      state: () => nodeRedisState(client, 'client'),
      keyPrefix: '',
    };
  }
  throw new TypeError(
    'RedisStore option "client" must be an ioredis Redis or Cluster, or a node-redis client or cluster',
  );
}

function nodeRedisState(
  client: { isOpen: boolean; isReady: boolean },
  kind: string,
): ReturnType<Driver['state']> {
  if (client.isReady) return ['ready', ''];
  return client.isOpen
    ? ['starting', `node-redis ${kind} not ready`]
    : ['down', `node-redis ${kind} closed`];
}
