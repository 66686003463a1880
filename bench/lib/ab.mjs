/**
 * A/B of one change: Tessera at a base commit (A, checked out in a throwaway git worktree that
 * shares this checkout's node_modules) against this checkout (B; or `--against`, another
 * commit, checked out the same way), memory store, one platform and scenario. This machine's rates move by ±15 % from one process to the next, more than most
 * changes are worth, so a full `npm run bench` cannot tell them apart; this can:
 * - `--sets` pairs of fresh processes, A and B started together; in each pair, `--runs`
 *   alternating runs of `--seconds` each (A B, B A, …) after one warm-up run of each;
 * - with two or more cores, both apps on core 0 and autocannon (this process) on the others, so
 *   the two never share the load generator's core;
 * - req/s, and the app's own CPU time per request (utime + stime from /proc/<pid>/stat, Linux),
 *   which load-generator noise does not reach; per pair the median of its runs, B over A, then
 *   the median of the pairs.
 * Bounded: sets × (2 starts + 2 × (runs + 1) × seconds), and every child is killed on exit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { ROOT, installCleanup, startTs, stop } from './children.mjs';
import { parseFlags } from './flags.mjs';
import { SCENARIOS, cookiesFor, drive } from './load.mjs';

function parseArgs(argv) {
  const defaults = { base: '', against: '', platform: 'express', scenario: 'read' };
  const args = parseFlags({ ...defaults, sets: 6, runs: 4, seconds: 3 }, argv);
  if (!args.base) throw new Error('--base=<git ref> is required (the A side)');
  if (!['express', 'fastify'].includes(args.platform))
    throw new Error('--platform: express|fastify');
  for (const name of ['sets', 'runs', 'seconds']) {
    if (!(Number.isInteger(args[name]) && args[name] >= 1 && args[name] <= 60))
      throw new Error(`--${name} must be an integer from 1 to 60`);
  }
  return args;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** CPU time (µs) the process has used, user + system; clock ticks are 100 Hz on Linux. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const pinning = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');

function pin(pid, cores) {
  if (pinning) execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}

/** A throwaway worktree of `ref`, using this checkout's node_modules. */
function checkout(ref) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-ab-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', dir, ref], { cwd: ROOT });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function removeCheckout(dir) {
  execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

export async function main() {
  installCleanup();
  const args = parseArgs(process.argv.slice(2));
  const scenario = SCENARIOS.find((s) => s.id === args.scenario);
  if (!scenario) throw new Error(`--scenario must be one of ${SCENARIOS.map((s) => s.id)}`);
  if (pinning) pin(process.pid, `1-${availableParallelism() - 1}`);
  const baseDir = checkout(args.base);
  // B: this checkout as it is (uncommitted changes included), or another commit.
  const otherDir = args.against ? checkout(args.against) : ROOT;
  const start = async (root, name) => {
    const { child, info } = await startTs('bench/app/main.ts', {
      name,
      root,
      env: { BENCH_PLATFORM: args.platform, BENCH_LIBRARY: 'tessera', BENCH_STORE: 'memory' },
    });
    pin(child.pid, '0');
    const url = `http://127.0.0.1:${info.port}`;
    const cookies = scenario.cookie ? await cookiesFor('tessera', url, 50) : undefined;
    return { child, url, cookies };
  };
  const measure = async (app) => {
    const before = cpuMicros(app.child.pid);
    const run = await drive({
      url: app.url + scenario.path,
      method: scenario.method,
      cookies: app.cookies,
      durationSec: args.seconds,
      connections: 50,
    });
    if (run.failures > 0) throw new Error(`${run.failures} failed requests: the run is void`);
    return { rps: run.rps, cpu: (cpuMicros(app.child.pid) - before) / run.requests };
  };
  const rpsRatios = [];
  const cpuRatios = [];
  process.stdout.write(
    `A = ${args.base}, B = ${args.against || 'this checkout'}; ${args.platform}, ${scenario.title}, memory store` +
      `${pinning ? '; apps on core 0' : ''}\n`,
  );
  try {
    for (let set = 0; set < args.sets; set++) {
      const a = await start(baseDir, 'A');
      const b = await start(otherDir, 'B');
      try {
        await measure(a);
        await measure(b);
        const runs = { a: [], b: [] };
        for (let i = 0; i < args.runs; i++) {
          const order = i % 2 ? ['b', 'a'] : ['a', 'b'];
          for (const side of order) runs[side].push(await measure(side === 'a' ? a : b));
        }
        const summary = (list) => ({
          rps: median(list.map((r) => r.rps)),
          cpu: median(list.map((r) => r.cpu)),
        });
        const [sa, sb] = [summary(runs.a), summary(runs.b)];
        rpsRatios.push(sb.rps / sa.rps);
        cpuRatios.push(sb.cpu / sa.cpu);
        process.stdout.write(
          `pair ${set + 1}: A ${sa.rps.toFixed(0)} req/s, ${sa.cpu.toFixed(1)} µs CPU/req; ` +
            `B ${sb.rps.toFixed(0)} req/s, ${sb.cpu.toFixed(1)} µs CPU/req\n`,
        );
      } finally {
        await Promise.all([stop(a.child), stop(b.child)]);
      }
    }
  } finally {
    removeCheckout(baseDir);
    if (otherDir !== ROOT) removeCheckout(otherDir);
  }
  process.stdout.write(
    `B/A, median of ${args.sets} pairs: req/s ×${median(rpsRatios).toFixed(3)} ` +
      `(${Math.min(...rpsRatios).toFixed(3)}–${Math.max(...rpsRatios).toFixed(3)}), ` +
      `CPU per request ×${median(cpuRatios).toFixed(3)} ` +
      `(${Math.min(...cpuRatios).toFixed(3)}–${Math.max(...cpuRatios).toFixed(3)})\n`,
  );
}
