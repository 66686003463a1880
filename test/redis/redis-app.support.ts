import { once } from 'node:events';
import Redis, { type RedisOptions } from 'ioredis';
import { createClient, type RedisClientOptions } from 'redis';
import type { SessionModuleOptions } from '../../lib';
import { RedisStore, type RedisStoreClient, type RedisStoreOptions } from '../../lib/redis';
import { SessionController } from '../src/session.controller';
import { PLATFORMS, startApp, type Platform, type TestApp } from '../support/app';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/** The two client libraries RedisStore takes, as the e2e suites run them. */
export type ClientKind = 'ioredis' | 'node-redis';
export const CLIENT_KINDS: ClientKind[] = ['ioredis', 'node-redis'];

/**
 * ioredis options for fast failure, as README recommends them. The store itself refuses every
 * command while the client is not ready, so the offline queue is never used once the client has
 * connected; what is left to bound is a command already sent when the connection drops:
 * `maxRetriesPerRequest: 1` fails it after one reconnection attempt instead of twenty. The retry
 * strategy always answers a number (never null), so the client never gives up reconnecting and
 * the app recovers without a restart.
 */
export const FAST_IOREDIS: RedisOptions = {
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(times * 50, 500),
  connectTimeout: 2_000,
};

/**
 * node-redis options for the same: commands in flight when the socket closes are rejected at
 * once by node-redis itself; the reconnect strategy always answers a number (`false` or an
 * Error would close the client for good).
 */
export const FAST_NODE_REDIS: RedisClientOptions = {
  socket: { reconnectStrategy: (retries) => Math.min(retries * 50, 500), connectTimeout: 2_000 },
};

/** An app's own client, connected, as a test drives it. */
export interface AppClient {
  readonly kind: ClientKind;
  readonly client: RedisStoreClient;
  /** Whether the client can send a command now. */
  ready(): boolean;
  close(): Promise<void>;
}

/** Connects a client of `kind` to `server` with the fast-failing options above. */
export async function connectClient(kind: ClientKind, server: RedisServer): Promise<AppClient> {
  if (kind === 'ioredis') {
    const redis = new Redis({ host: server.host, port: server.port, ...FAST_IOREDIS });
    redis.on('error', () => undefined);
    await once(redis, 'ready');
    return {
      kind,
      client: redis,
      ready: () => redis.status === 'ready',
      close: async () => redis.disconnect(),
    };
  }
  const redis = createClient({
    ...FAST_NODE_REDIS,
    socket: { ...FAST_NODE_REDIS.socket, host: server.host, port: server.port },
  });
  redis.on('error', () => undefined);
  await redis.connect();
  return {
    kind,
    client: redis,
    ready: () => redis.isReady,
    close: async () => redis.destroy(),
  };
}

/** Where a redis-server listens: a whole {@link RedisServer}, or one node of a cluster. */
export type RedisAddress = Pick<RedisServer, 'host' | 'port'>;

/** A plain ioredis connection for looking at the server behind the app's back. */
export async function adminClient(server: RedisAddress): Promise<Redis> {
  const redis = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await once(redis, 'ready');
  return redis;
}

/** What Redis ran while one action was under way. */
export interface Measured {
  /** `INFO commandstats` calls by command, commands run inside scripts included. */
  stats: Record<string, number>;
  /** The commands clients sent (the round trips), in order, by MONITOR. */
  sent: string[];
  /** The commands scripts ran inside Redis, in order, by MONITOR. */
  scripted: string[];
}

interface MonitorLine {
  source: string;
  command: string;
}

/**
 * Counts what an app asks of Redis: `INFO commandstats` after a `CONFIG RESETSTAT`, and a
 * MONITOR feed that tells the commands a client sent (the round trips) from those a Lua script
 * ran inside Redis, which commandstats counts alike. The probe's own commands are left out.
 */
export class RedisProbe {
  private readonly lines: MonitorLine[] = [];
  private readonly markers = new Map<string, (at: number) => void>();
  private serial = 0;

  private constructor(
    readonly admin: Redis,
    private readonly monitor: Redis,
    private readonly adminAddress: string,
  ) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const [command = '', marker = ''] = args;
      if (source === this.adminAddress) {
        if (command.toLowerCase() === 'echo') this.markers.get(marker)?.(this.lines.length);
        return;
      }
      this.lines.push({ source, command: command.toLowerCase() });
    });
  }

  static async start(server: RedisAddress): Promise<RedisProbe> {
    const admin = await adminClient(server);
    const info = String(await admin.call('CLIENT', 'INFO'));
    const address = /\baddr=(\S+)/.exec(info)?.[1];
    if (!address) throw new Error(`no addr in CLIENT INFO: ${info}`);
    const monitor = await admin.monitor();
    monitor.on('error', () => undefined);
    return new RedisProbe(admin, monitor, address);
  }

  /** Runs `action`, and tells what Redis ran for it. */
  async measure(action: () => Promise<unknown>): Promise<Measured> {
    const from = await this.mark();
    await this.admin.call('CONFIG', 'RESETSTAT');
    await action();
    const stats = await this.commandStats();
    const to = await this.mark();
    const lines = this.lines.slice(from, to);
    return {
      stats,
      sent: lines.filter((line) => line.source !== 'lua').map((line) => line.command),
      scripted: lines.filter((line) => line.source === 'lua').map((line) => line.command),
    };
  }

  async close(): Promise<void> {
    this.monitor.disconnect();
    this.admin.disconnect();
  }

  /**
   * Sends a marker through the admin connection and resolves, with the feed's length at that
   * point, once MONITOR has shown it: everything Redis ran before the marker is in by then.
   */
  private async mark(): Promise<number> {
    const token = `probe-marker-${++this.serial}`;
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<number>((resolve, reject) => {
      this.markers.set(token, resolve);
      timer = setTimeout(() => reject(new Error(`MONITOR never showed ${token}`)), 5_000);
    });
    try {
      await this.admin.call('ECHO', token);
      return await seen;
    } finally {
      clearTimeout(timer);
      this.markers.delete(token);
    }
  }

  /** Calls per command since the last `CONFIG RESETSTAT`, without the probe's own. */
  private async commandStats(): Promise<Record<string, number>> {
    const info = String(await this.admin.call('INFO', 'commandstats'));
    const calls: Record<string, number> = {};
    for (const [, name, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!/^(config|info)/.test(name!)) calls[name!] = Number(count);
    }
    return calls;
  }
}

/** Every client kind on every platform, for `describe.each`. */
export const CLIENT_PLATFORMS: [ClientKind, Platform][] = CLIENT_KINDS.flatMap((kind) =>
  PLATFORMS.map((platform): [ClientKind, Platform] => [kind, platform]),
);

/** What {@link useRedisApp} starts; each field is set once its `beforeAll` has run. */
export interface RedisApp {
  server: RedisServer;
  /** The app's own client, which its RedisStore uses. */
  redis: AppClient;
  /** The app: SessionController with `SessionModule.forRoot({ store, ...options })`. */
  t: TestApp;
  /** With `admin: true`: a plain connection for looking behind the app's back. */
  admin: Redis;
  /** With `probe: true`: what Redis ran for an action. */
  probe: RedisProbe;
}

export interface RedisAppSetup {
  kind: ClientKind;
  platform?: Platform;
  /** Arguments for redis-server. */
  serverArgs?: string[];
  /** RedisStore options besides the client. */
  store?: Omit<RedisStoreOptions, 'client'>;
  /** Session options besides the store. */
  options?: Partial<SessionModuleOptions>;
  admin?: boolean;
  probe?: boolean;
}

/**
 * For one describe block: starts a redis-server (with the probe and the admin connection asked
 * for), connects a client of `kind`, and starts an app with a RedisStore on it, before all its
 * tests; stops them all after.
 */
export function useRedisApp(setup: RedisAppSetup): RedisApp {
  const env = {} as RedisApp;
  beforeAll(async () => {
    env.server = await startRedisServer(setup.serverArgs);
    if (setup.probe) env.probe = await RedisProbe.start(env.server);
    if (setup.admin) env.admin = await adminClient(env.server);
    env.redis = await connectClient(setup.kind, env.server);
    const store = new RedisStore({ client: env.redis.client, ...setup.store });
    env.t = await startApp({ store, ...setup.options }, [SessionController], {
      platform: setup.platform,
    });
  });
  afterAll(async () => {
    await env.t?.close();
    await env.redis?.close();
    env.admin?.disconnect();
    await env.probe?.close();
    await env.server?.dispose();
  });
  return env;
}
