/**
 * `npm run bench` (`node bench/run.js [--quick]`): Tessera side by side with express-session and
 * @fastify/session, on Express and Fastify, with the memory store, Redis and SQL (issue 6).
 *
 * Each contender is the same Nest app (bench/app) in its own process on a loopback port; this
 * process starts the services, the apps, drives them with autocannon in interleaved rounds
 * (A B C, B C A, …, so machine drift hits every contender alike), then runs the memory-growth
 * run, prints a markdown report and writes it to bench/results/latest.md.
 * Everything it starts is stopped again, on success, on error and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, ask, installCleanup, startTs, stop } from './children.mjs';
import { SCENARIOS, drive, peakRss, resetPeakRss, sessionCookies } from './load.mjs';
import { runMemory } from './memory.mjs';
import { GROUPS, MODES, missingFiles, scenariosFor } from './plan.mjs';
import { render, summarize } from './report.mjs';
import { commandStats, startService, statsDelta, unavailable } from './services.mjs';

const RESULTS = path.join(ROOT, 'bench', 'results');
/** Hard ceiling on the whole run: whatever happens, it ends. */
const RUN_LIMIT_MS = 30 * 60_000;

const log = (message) => process.stderr.write(`${message}\n`);

/**
 * The commit the apps ran, and whether lib/ had uncommitted changes: each app loads lib/ when it
 * starts, so a run that straddles a change to lib/ measures two versions, and the report says so.
 */
function libVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'lib').length > 0;
    return `${commit}${dirty ? ' + uncommitted changes in lib/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/**
 * `--quick`: the one-minute smoke run. `--groups=memory,redis,sql`: only these contender groups.
 * `--no-memory`: skip the memory-growth run.
 */
function parseArgs(argv) {
  const args = { quick: false, memory: true, groups: undefined };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--no-memory') args.memory = false;
    else if (arg.startsWith('--groups=')) args.groups = arg.slice('--groups='.length).split(',');
    else throw new Error(`unknown argument ${arg} (known: --quick, --groups=a,b, --no-memory)`);
  }
  const names = GROUPS.map((g) => g.name);
  const unknown = (args.groups ?? []).filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new Error(`unknown group ${unknown} (groups: ${names})`);
  return args;
}

/**
 * Starts contenders in parallel and pushes `{ contender, child, url, pid }` of each onto `apps`
 * (also those that started when another failed, so the caller stops them all).
 */
async function startApps(contenders, envFor, apps) {
  const results = await Promise.allSettled(
    contenders.map(async (contender) => {
      const { child, info } = await startTs('bench/app/main.ts', {
        name: contender.id,
        env: {
          ...envFor(contender),
          BENCH_PLATFORM: contender.platform,
          BENCH_LIBRARY: contender.library,
          BENCH_STORE: contender.store,
        },
      });
      const app = { contender, child, pid: info.pid, url: `http://127.0.0.1:${info.port}` };
      apps.push(app);
      return app;
    }),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** How store work is counted in this group: Redis commands, SQL statements, or not at all. */
function storeCounter(group, services) {
  if (group.name === 'redis') {
    const { port } = services.redis;
    return { snapshot: () => commandStats(port), delta: statsDelta };
  }
  if (group.name === 'sql') {
    return {
      snapshot: (app) => ask(app.child, 'stats').then((s) => ({ sql: s.statements })),
      delta: statsDelta,
    };
  }
  return undefined;
}

/** One scenario on a group: warm-up, interleaved rounds, then each app's peak RSS. */
async function runScenario(scenario, apps, mode, counter) {
  const participants = apps.filter(
    (app) => scenario.id === 'plain' || app.contender.library !== 'bare',
  );
  const rows = new Map();
  for (const app of participants) {
    const cookies = scenario.cookie ? await sessionCookies(app.url, mode.connections) : undefined;
    const resettable = resetPeakRss(app.pid);
    rows.set(app, {
      ...app.contender,
      contender: app.contender.id,
      scenario: scenario.id,
      cookies,
      resettable,
      runs: [],
      storeOps: counter ? { total: 0, byKind: {} } : undefined,
    });
  }
  const load = (app, durationSec) =>
    drive({
      url: app.url + scenario.path,
      method: scenario.method,
      cookies: rows.get(app).cookies,
      durationSec,
      connections: mode.connections,
    });

  for (const app of participants) await load(app, mode.warmupSec);
  for (let round = 0; round < mode.rounds; round++) {
    // Rotate the order each round, so no contender always follows the same one.
    const order = participants.map((_, i) => participants[(i + round) % participants.length]);
    for (const app of order) {
      const row = rows.get(app);
      const before = counter && (await counter.snapshot(app));
      const run = await load(app, mode.durationSec);
      if (counter) {
        // Requests cut off when the run stopped may still reach the store: let them land.
        await sleep(100);
        const delta = counter.delta(before, await counter.snapshot(app));
        for (const [kind, n] of Object.entries(delta)) {
          row.storeOps.total += n;
          row.storeOps.byKind[kind] = (row.storeOps.byKind[kind] ?? 0) + n;
        }
      }
      row.runs.push(run);
      log(
        `  ${scenario.id.padEnd(5)} r${round + 1} ${app.contender.id.padEnd(40)} ` +
          `${Math.round(run.rps).toString().padStart(6)} req/s  p99 ${run.p99} ms` +
          (run.failures ? `  ${run.failures} FAILED` : ''),
      );
    }
  }
  for (const app of participants) {
    const row = rows.get(app);
    row.peakRss = row.resettable
      ? peakRss(app.pid)
      : ((await ask(app.child, 'stats').catch(() => undefined))?.maxRss ?? 0) * 1024 || undefined;
    delete row.cookies;
    delete row.resettable;
  }
  return [...rows.values()];
}

/** The service a contender needs, if any. */
const serviceOf = (contender) =>
  contender.store === 'redis' ? 'redis' : contender.store === 'postgres' ? 'postgres' : undefined;

async function runGroup(group, mode, skipped) {
  const missing = missingFiles(group);
  if (missing) {
    skipped.push(`${group.name} contenders (${missing})`);
    log(`skipping the ${group.name} group: ${missing}`);
    return [];
  }
  const contenders = group.contenders.filter((contender) => {
    const service = serviceOf(contender);
    const why = service && unavailable(service);
    if (why) skipped.push(`${contender.id} (${why})`);
    return !why;
  });
  if (contenders.length === 0) return [];
  log(`\n== ${group.name} group: ${contenders.map((c) => c.id).join(', ')}`);
  const services = {};
  const apps = [];
  // One SQLite file per app, in a directory removed at the end: two apps writing one file would
  // measure SQLite's lock, not the session layer.
  const sqliteDir = contenders.some((c) => c.store === 'sqlite')
    ? mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'))
    : undefined;
  try {
    for (const name of new Set(contenders.map(serviceOf).filter(Boolean))) {
      services[name] = await startService(name);
      log(`  ${name} on 127.0.0.1:${services[name].port} (pid ${services[name].pid})`);
    }
    const envFor = (contender) => ({
      BENCH_REDIS_URL: services.redis ? `redis://127.0.0.1:${services.redis.port}` : '',
      BENCH_PG_PORT: services.postgres ? String(services.postgres.port) : '',
      BENCH_SQLITE_FILE: sqliteDir
        ? path.join(sqliteDir, `${contender.platform}-${contender.library}.db`)
        : '',
    });
    await startApps(contenders, envFor, apps);
    // In the table's order (they became ready in any order): it is the report's row order.
    apps.sort((a, b) => contenders.indexOf(a.contender) - contenders.indexOf(b.contender));
    const counter = storeCounter(group, services);
    const rows = [];
    for (const scenario of scenariosFor(group, SCENARIOS)) {
      rows.push(...(await runScenario(scenario, apps, mode, counter)));
    }
    return rows;
  } finally {
    await Promise.all(apps.map((app) => stop(app.child)));
    await Promise.all(Object.values(services).map((service) => stop(service.child, 25_000)));
    if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  }
}

/** The whole run; resolves once the report is written and everything started is stopped. */
export async function main() {
  const args = parseArgs(process.argv.slice(2));
  const modeName = args.quick ? 'quick' : 'full';
  const mode = MODES[modeName];
  installCleanup();
  setTimeout(() => {
    log(`bench: still running after ${RUN_LIMIT_MS / 60_000} min, giving up`);
    process.exit(2);
  }, RUN_LIMIT_MS).unref();

  const started = Date.now();
  const versionAtStart = libVersion();
  const skipped = [];
  const rows = [];
  const groups = args.groups ?? mode.groups;
  for (const group of GROUPS.filter((g) => groups.includes(g.name))) {
    rows.push(...(await runGroup(group, mode, skipped)));
  }
  const memory = args.memory ? await runMemory({ count: mode.memorySessions, log }) : [];
  const versionAtEnd = libVersion();
  const version =
    versionAtEnd === versionAtStart
      ? versionAtStart
      : `${versionAtStart} at the start, ${versionAtEnd} at the end: lib/ changed during the run, rows may mix the two`;

  const report = render({
    rows: summarize(rows),
    scenarios: SCENARIOS,
    mode,
    modeName,
    memory,
    skipped,
    version,
    startedAt: new Date(started).toISOString(),
    elapsedSec: (Date.now() - started) / 1000,
  });
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'latest.md'), `${report}\n`);
  writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify({ rows, memory }, null, 2));
  process.stdout.write(`${report}\n`);
  log(`written to ${path.relative(ROOT, path.join(RESULTS, 'latest.md'))}`);
}
