import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './time';

const run = promisify(execFile);

const SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
const CLI = process.env.REDIS_CLI_BIN ?? '/usr/bin/redis-cli';

/** A throwaway redis-server on a loopback port, for one test file. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
  /** The running server's pid, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** Stops the server (as an outage would); `restart()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts the server again on the same port (stopping it first if it runs). */
  restart(): Promise<void>;
  /** Stops the server and removes its directory; safe to call twice. */
  dispose(): Promise<void>;
}

/** A small local Redis Cluster: three masters (by default), no replicas. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every master, as cluster clients take their seed nodes. */
  readonly seeds: { host: '127.0.0.1'; port: number }[];
  /** Stops every node and removes their directories; safe to call twice. */
  dispose(): Promise<void>;
}

// Every server this process started, so none outlives it even if a suite never reaches afterAll.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) kill(child, 'SIGKILL');
});

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone: nothing left to stop.
  }
}

/** Asks a server one question through redis-cli; rejects when it does not answer. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run(CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5_000,
  });
  return stdout.trim();
}

async function waitFor(what: string, check: () => Promise<boolean>, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`redis test server: gave up waiting for ${what}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
    running.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  kill(child, 'SIGTERM');
  const timer = setTimeout(() => kill(child, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

/** Starts one redis-server process and resolves once it answers PING. */
async function spawnServer(port: number, dir: string, extra: string[]): Promise<ChildProcess> {
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''],
    ...extra,
  ];
  const child = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  try {
    await waitFor(`redis-server on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
      return (await redisCli(port, 'PING')) === 'PONG';
    });
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return child;
}

/**
 * Starts a redis-server on a free loopback port, in its own temporary directory, with no
 * persistence. `extra` adds command-line options (the cluster helper uses it).
 */
export async function startRedisServer(extra: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  // Another process may take the free port between the probe and the bind: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(port, dir, extra);
    } catch (err) {
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async stop() {
      if (child) await stopChild(child);
      child = undefined;
    },
    async restart() {
      await server.stop();
      child = await spawnServer(port, dir, extra);
    },
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Starts `masters` cluster-enabled servers on free loopback ports (each with its own bus port),
 * joins them with `redis-cli --cluster create`, and resolves once every node reports the cluster
 * as ok. Everything started is stopped again if any step fails.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((node) => node.dispose()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const busPort = await freePort();
      const options = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      options.push('--cluster-node-timeout', '2000', '--cluster-port', String(busPort));
      nodes.push(await startRedisServer(options));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run(
      CLI,
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await waitFor('the cluster to be ok on every node', async () => {
      const infos = await Promise.all(nodes.map((node) => redisCli(node.port, 'CLUSTER', 'INFO')));
      return infos.every(
        (info) =>
          info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`),
      );
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    nodes,
    seeds: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    dispose,
  };
}
