import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './time';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster on a loopback port, for one test file. */
export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly username: 'postgres';
  readonly database: 'postgres';
  /** The postmaster's pid. */
  readonly pid: number;
  /** Stops the server (immediate shutdown) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * PostgreSQL refuses to run as root, and tests do run as root in CI: then every server binary
 * runs as the `postgres` user, in a directory that user owns. As any other user the binaries run
 * as that user, directly.
 */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [join(BIN, command), args];
  return ['runuser', ['-u', 'postgres', '--', join(BIN, command), ...args]];
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/**
 * A detached shell that ends the server and removes its directory once this process is gone,
 * however it went (a killed Jest worker runs no exit hook). `stop()` ends it by its pid.
 */
function startWatchdog(serverPid: number, dir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -QUIT ${serverPid} 2>/dev/null; sleep 2; rm -rf '${dir}'`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates a fresh cluster (trust auth, no fsync: it lives for one test file) in a new directory
 * under `os.tmpdir()`, starts it on a free port of 127.0.0.1 with its unix socket in that
 * directory, and resolves once it accepts connections. Call `stop()` in `afterAll`; if the test
 * process dies first, an exit hook still kills the server by pid.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const dataDir = join(dir, 'data');
  const owner = postgresUser();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);

  let pid: number | undefined;
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  // Last resort when the process exits without afterAll (a crash, a killed worker): synchronous.
  const onExit = () => {
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (watchdog?.pid && isAlive(watchdog.pid)) process.kill(watchdog.pid, 'SIGKILL');
    try {
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        const [cmd, args] = asPostgres('pg_ctl', [
          'stop',
          '-D',
          dataDir,
          '-m',
          'immediate',
          '-w',
          '-t',
          '30',
        ]);
        await run(cmd, args).catch(() => undefined);
      }
      // pg_ctl could not do it (or did not wait long enough): the pid is ours to end.
      if (pid && isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    const [initdb, initArgs] = asPostgres('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    await run(initdb, initArgs);

    // A free port can be taken between the probe and the bind: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !pid; attempt++) {
      const port = await freePort();
      const options = `-h 127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=50 -c shared_buffers=16MB`;
      const [pgCtl, args] = asPostgres('pg_ctl', [
        'start',
        '-D',
        dataDir,
        '-w',
        '-t',
        '60',
        '-l',
        join(dir, 'server.log'),
        '-o',
        options,
      ]);
      try {
        await run(pgCtl, args);
        pid = postmasterPid(dataDir);
        if (!pid) throw new Error('postgres started but wrote no postmaster.pid');
        watchdog = startWatchdog(pid, dir);
        const server: PostgresServer = {
          host: '127.0.0.1',
          port,
          username: 'postgres',
          database: 'postgres',
          pid,
          stop,
        };
        return server;
      } catch (err) {
        lastError = err;
        const stray = postmasterPid(dataDir);
        if (stray && isAlive(stray)) process.kill(stray, 'SIGKILL');
      }
    }
    const log = existsSync(join(dir, 'server.log'))
      ? readFileSync(join(dir, 'server.log'), 'utf8')
      : '';
    throw new Error(`could not start PostgreSQL: ${String(lastError)}\n${log}`);
  } catch (err) {
    await stop();
    throw err;
  }
}
