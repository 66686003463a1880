/**
 * `npm run bench` (`node bench/run.js [--quick]`): Tessera side by side with express-session and
 * @fastify/session, on Express and Fastify, with the memory store, Redis and SQL (issue 6).
 *
 * Each contender is the same Nest app (bench/app) in its own process on a loopback port; this
 * process starts the services, then drives the apps with autocannon in interleaved rounds
 * (A B C, B C A, …, so machine drift hits every contender alike). Issue 11's method: in each
 * round every contender is a fresh process (started for the round, stopped after it), and each
 * scenario gets a warm-up on that process before it is measured. Then the memory-growth run; the
 * markdown report is printed and written to bench/results/latest.md. `--soak` runs the soak
 * (lib/soak.mjs) instead.
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
import { SCENARIOS, cookiesFor, drive, peakRss, resetPeakRss } from './load.mjs';
import { runMemory } from './memory.mjs';
import { GROUPS, MODES, SOAK, missingFiles, scenariosFor } from './plan.mjs';
import { render, summarize } from './report.mjs';
import { commandStats, startService, statsDelta, unavailable } from './services.mjs';
import { runSoak } from './soak.mjs';

const RESULTS = path.join(ROOT, 'bench', 'results');

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
 * `--quick`: the smoke run (under 2 minutes). `--groups=memory,redis,sql`: only these contender
 * groups. `--no-memory`: skip the memory-growth run. `--soak [--soak-seconds=N]`: the soak alone.
 */
function parseArgs(argv) {
  const args = {
    quick: false,
    memory: true,
    groups: undefined,
    soak: false,
    soakSeconds: SOAK.seconds,
  };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--no-memory') args.memory = false;
    else if (arg.startsWith('--groups=')) args.groups = arg.slice('--groups='.length).split(',');
    else if (arg === '--soak') args.soak = true;
    else if (arg.startsWith('--soak-seconds=')) {
      args.soakSeconds = Number(arg.slice('--soak-seconds='.length));
      if (!Number.isInteger(args.soakSeconds) || args.soakSeconds < 20 || args.soakSeconds > 3600)
        throw new Error('--soak-seconds must be a whole number of seconds from 20 to 3600');
    } else
      throw new Error(
        `unknown argument ${arg} (known: --quick, --groups=a,b, --no-memory, --soak, --soak-seconds=N)`,
      );
  }
  if (args.soak && (args.quick || args.groups))
    throw new Error('--soak runs alone: not with --quick or --groups');
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

/** One row per contender × scenario, in the report's order; each round adds a run to it. */
function emptyRows(contenders, scenarios, counter) {
  const rows = new Map();
  for (const scenario of scenarios) {
    for (const contender of contenders) {
      rows.set(`${contender.id} ${scenario.id}`, {
        ...contender,
        contender: contender.id,
        scenario: scenario.id,
        runs: [],
        storeOps: counter ? { total: 0, byKind: {} } : undefined,
      });
    }
  }
  return rows;
}

/**
 * One scenario in one round, on this round's fresh processes, in rotated order: for each app, its
 * sessions (logged in), a warm-up, the measured run, its store work, and its peak RSS.
 */
async function runScenarioRound(scenario, apps, round, rounds, mode, counter, rows) {
  // Rotate the order each round, so no contender always follows the same one.
  const order = apps.map((_, i) => apps[(i + round) % apps.length]);
  for (const app of order) {
    const row = rows.get(`${app.contender.id} ${scenario.id}`);
    const cookies = scenario.cookie
      ? await cookiesFor(app.contender.library, app.url, mode.connections)
      : undefined;
    const resettable = resetPeakRss(app.pid);
    const load = (durationSec) =>
      drive({
        url: app.url + scenario.path,
        method: scenario.method,
        cookies,
        durationSec,
        connections: mode.connections,
      });
    await load(mode.warmupSec);
    const before = counter && (await counter.snapshot(app));
    const run = await load(mode.durationSec);
    if (counter) {
      // Requests cut off when the run stopped may still reach the store: let them land.
      await sleep(100);
      const delta = counter.delta(before, await counter.snapshot(app));
      for (const [kind, n] of Object.entries(delta)) {
        row.storeOps.total += n;
        row.storeOps.byKind[kind] = (row.storeOps.byKind[kind] ?? 0) + n;
      }
    }
    run.peakRss = resettable
      ? peakRss(app.pid)
      : ((await ask(app.child, 'stats').catch(() => undefined))?.maxRss ?? 0) * 1024 || undefined;
    row.runs.push(run);
    log(
      `  ${scenario.id.padEnd(5)} r${round + 1}/${rounds} ${app.contender.id.padEnd(40)} ` +
        `${Math.round(run.rps).toString().padStart(6)} req/s  p99 ${run.p99} ms` +
        (run.failures ? `  ${run.failures} FAILED` : ''),
    );
  }
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
  // One directory for SQLite files, removed at the end: one file per app and round (two apps
  // writing one file would measure SQLite's lock, not the session layer; a fresh process gets a
  // fresh file, as it gets a fresh MemoryStore).
  const sqliteDir = contenders.some((c) => c.store === 'sqlite')
    ? mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'))
    : undefined;
  try {
    for (const name of new Set(contenders.map(serviceOf).filter(Boolean))) {
      services[name] = await startService(name);
      log(`  ${name} on 127.0.0.1:${services[name].port} (pid ${services[name].pid})`);
    }
    const counter = storeCounter(group, services);
    const scenarios = scenariosFor(group, SCENARIOS).filter(
      (s) => !mode.scenarios || mode.scenarios.includes(s.id),
    );
    const rows = emptyRows(contenders, scenarios, counter);
    for (let round = 0; round < mode.rounds; round++) {
      const envFor = (contender) => ({
        BENCH_REDIS_URL: services.redis ? `redis://127.0.0.1:${services.redis.port}` : '',
        BENCH_PG_PORT: services.postgres ? String(services.postgres.port) : '',
        BENCH_SQLITE_FILE: sqliteDir
          ? path.join(sqliteDir, `${contender.platform}-${contender.library}-r${round + 1}.db`)
          : '',
      });
      // Fresh processes for this round, stopped at its end (also on error).
      const apps = [];
      try {
        await startApps(contenders, envFor, apps);
        // In the table's order (they became ready in any order): the rotation starts from it.
        apps.sort((a, b) => contenders.indexOf(a.contender) - contenders.indexOf(b.contender));
        log(`  round ${round + 1}/${mode.rounds}: ${apps.length} fresh app processes`);
        for (const scenario of scenarios) {
          await runScenarioRound(scenario, apps, round, mode.rounds, mode, counter, rows);
        }
      } finally {
        await Promise.all(apps.map((app) => stop(app.child)));
      }
    }
    return [...rows.values()];
  } finally {
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
  // Hard ceiling on the whole run: whatever happens, it ends (the soak: 2 minutes of slack per
  // contender on top of its seconds).
  const limitMs = args.soak
    ? SOAK.contenders.length * (args.soakSeconds + 120) * 1000
    : mode.limitMin * 60_000;
  setTimeout(() => {
    log(`bench: still running after ${Math.round(limitMs / 60_000)} min, giving up`);
    process.exit(2);
  }, limitMs).unref();
  if (args.soak) {
    const report = await runSoak({ seconds: args.soakSeconds, log, version: libVersion() });
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'soak.md'), `${report.markdown}\n`);
    writeFileSync(path.join(RESULTS, 'soak.json'), JSON.stringify(report.results, null, 2));
    process.stdout.write(`${report.markdown}\n`);
    log(`written to ${path.relative(ROOT, path.join(RESULTS, 'soak.md'))}`);
    return;
  }

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
