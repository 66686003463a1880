/**
 * The services the store contenders need: a throwaway redis-server and PostgreSQL cluster, each
 * started through test/support's helpers in a small service process (bench/services/*.ts) that
 * stops its server when the run ends or the orchestrator dies. Plus what the report needs from
 * Redis: the calls of each command (`INFO commandstats`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { ROOT, startTs } from './children.mjs';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? '/usr/bin/redis-cli';
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why a service cannot run here, or undefined when it can. */
export function unavailable(service) {
  if (service === 'redis') {
    if (!existsSync(REDIS_SERVER) || !existsSync(REDIS_CLI))
      return `no ${REDIS_SERVER} / ${REDIS_CLI}`;
    if (!existsSync(path.join(ROOT, 'test/support/redis-server.ts')))
      return 'test/support/redis-server.ts is missing';
  }
  if (service === 'postgres') {
    if (!existsSync(path.join(PG_BIN, 'postgres'))) return `no PostgreSQL in ${PG_BIN}`;
    if (!existsSync(path.join(ROOT, 'test/support/postgres.ts')))
      return 'test/support/postgres.ts is missing';
  }
  return undefined;
}

/** Starts a service; resolves with `{ child, port, pid }`. */
export async function startService(service) {
  const { child, info } = await startTs(`bench/services/${service}.ts`, {
    name: service,
    timeoutMs: 120_000,
  });
  return { child, port: info.port, pid: info.pid };
}

/**
 * Connection and introspection commands, sent by clients and by this orchestrator: not store
 * work, so not counted.
 */
const NOT_STORE_WORK = /^(info|hello|client|ping|select|command|auth|config)(\||$)/;

/** `{ command: calls }` of every command the server ran so far (store work only). */
export function commandStats(port) {
  return new Promise((resolve, reject) => {
    execFile(
      REDIS_CLI,
      ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'commandstats'],
      { timeout: 5_000 },
      (err, stdout) => {
        if (err) return reject(err);
        const stats = {};
        for (const line of stdout.split('\n')) {
          const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
          if (match && !NOT_STORE_WORK.test(match[1])) stats[match[1]] = Number(match[2]);
        }
        resolve(stats);
      },
    );
  });
}

/** What ran between two `commandStats` snapshots. */
export function statsDelta(before, after) {
  const delta = {};
  for (const [command, calls] of Object.entries(after)) {
    const n = calls - (before[command] ?? 0);
    if (n > 0) delta[command] = n;
  }
  return delta;
}
