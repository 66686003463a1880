// How RedisStore talks to each kind of client it accepts, described by shape so that neither
// `ioredis` nor `redis` is loaded (or even needs to be installed) for this file.

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

export type Send = (args: string[]) => Promise<unknown>;

/** One way of talking to each kind of client, chosen once in the constructor. */
export interface Driver {
  /** Sends a command to the node that owns `key`. */
  send(key: string, args: string[]): Promise<unknown>;
  /** A sender per master, for SCAN. */
  masters(): Promise<Send[]>;
  /** Whether the client can take a command now, and in what words to say why not. */
  state(): ['ready' | 'starting' | 'down', string];
  /** Text the client itself puts in front of every key (ioredis `keyPrefix`). */
  keyPrefix: string;
  /**
   * Whether keys live on many nodes (Redis Cluster): a command or script may then only name
   * keys of one slot, so a session and its user's index are never written by one script.
   */
  cluster: boolean;
}

/** The driver for `client`, or a TypeError naming the option when it is none of the kinds. */
export function driverFor(client: RedisStoreClient | undefined): Driver {
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
      cluster: client.isCluster === true,
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
      cluster: true,
    };
  }
  if (client && 'sendCommand' in client) {
    return {
      send: (_key, args) => client.sendCommand(args),
      masters: async () => [(args) => client.sendCommand(args)],
      state: () => nodeRedisState(client, 'client'),
      keyPrefix: '',
      cluster: false,
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

/**
 * Every key under `prefix`, as the store names it (without the client's own `keyPrefix`), found
 * with SCAN, never KEYS, on each master.
 */
export async function scanKeys(
  driver: Driver,
  prefix: string,
  count: number,
): Promise<Set<string>> {
  const found = new Set<string>();
  const { keyPrefix } = driver;
  const match = (keyPrefix + prefix).replace(/[*?[\]\\]/g, '\\$&') + '*';
  for (const send of await driver.masters()) {
    let cursor = '0';
    do {
      const args = ['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)];
      const [next, batch] = (await send(args)) as [unknown, unknown[]];
      for (const key of batch) found.add(String(key).slice(keyPrefix.length));
      cursor = String(next);
    } while (cursor !== '0');
  }
  return found;
}
