/**
 * `node bench/profile.js --platform=fastify --library=tessera --store=memory --scenario=read`:
 * runs one contender under `node --cpu-prof`, drives one scenario with autocannon for a while,
 * stops the app (which writes the profile), and prints the frames with the most self time,
 * marking ours (lib/). The .cpuprofile stays in bench/results/profiles/ for Chrome DevTools.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { ROOT, ask, installCleanup, startTs, stop } from './children.mjs';
import { parseFlags } from './flags.mjs';
import { SCENARIOS, cookiesFor, drive } from './load.mjs';
import { startService } from './services.mjs';

/** Our own code: the library's sources (not a dependency's lib/ folder). */
const OURS = `${ROOT}${path.sep}lib${path.sep}`;

function parseArgs(argv) {
  const args = parseFlags(
    {
      platform: 'express',
      library: 'tessera',
      store: 'memory',
      scenario: 'read',
      seconds: 10,
      connections: 32,
      top: 25,
      // 1: also sample allocations (garbage included) during the run, and list the top allocators.
      allocations: 0,
    },
    argv,
  );
  // The bare app and the diagnostic middleware apps have no store.
  if (args.library === 'bare' || args.library.endsWith('-middleware')) args.store = 'none';
  return args;
}

/**
 * Self time per function (summed over every node of the profile that names it), and, for our
 * own functions, total time (self plus everything they called, counted once per sample). Only
 * the samples taken within [from, to] (µs, the profile's clock) count.
 */
export function analyze(profile, from = -Infinity, to = Infinity) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.replace(/^file:\/\//, '').replace(`${ROOT}${path.sep}`, '') : '';
    return `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) continue;
    all += dt;
    const leaf = byId.get(profile.samples[i]);
    const key = keyOf(leaf);
    self.set(key, (self.get(key) ?? 0) + dt);
    // Every distinct function of ours on this sample's stack gets the sample once.
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node.callFrame.url.replace(/^file:\/\//, '').startsWith(OURS)) continue;
      const k = keyOf(node);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const idle = [...self].filter(([k]) => /^\((idle|program|garbage collector)\)/.test(k));
  return { self, total, all, idle };
}

/** Bytes allocated per function (sampled, garbage included), from a .heapprofile. */
function allocationReport(heap, top) {
  const bytes = new Map();
  let all = 0;
  const visit = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.replace(/^file:\/\//, '').replace(`${ROOT}${path.sep}`, '') : '';
    const key = `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
    bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
    all += node.selfSize;
    for (const child of node.children ?? []) visit(child);
  };
  visit(heap.head);
  const lines = [`allocated (sampled) ${(all / 2 ** 20).toFixed(0)} MB; top ${top} allocators:`];
  for (const [k, v] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const mark = k.includes(' lib/') ? '*' : ' ';
    lines.push(`  ${((v / all) * 100).toFixed(1).padStart(5)} %  ${mark} ${k}`);
  }
  return lines.join('\n');
}

function report({ self, total, all, idle }, top) {
  const pct = (n) => `${((n / all) * 100).toFixed(1).padStart(5)} %`;
  const lines = [`total sampled ${(all / 1e6).toFixed(2)} s`];
  for (const [k, v] of idle) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', `top ${top} frames by self time (* = ours, lib/):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(
      `  ${pct(v)}  ${k.includes(`lib/`) && !k.includes('node_modules') ? '*' : ' '} ${k}`,
    );
  }
  const oursSelf = [...self].filter(([k]) => k.includes(' lib/')).reduce((n, [, v]) => n + v, 0);
  lines.push('', `self time in lib/: ${pct(oursSelf)}`, '', 'our functions by total time:');
  for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(v)}  ${k}`);
  }
  return lines.join('\n');
}

export async function main() {
  installCleanup();
  const args = parseArgs(process.argv.slice(2));
  const scenario = SCENARIOS.find((s) => s.id === args.scenario);
  if (!scenario) throw new Error(`--scenario must be one of ${SCENARIOS.map((s) => s.id)}`);
  const dir = path.join(ROOT, 'bench', 'results', 'profiles');
  const name = `${args.platform}-${args.library}-${args.store}-${args.scenario}`;
  const profileDir = path.join(dir, name);
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });

  let service;
  let window = [];
  let allocations;
  if (args.store === 'redis' || args.store === 'postgres') service = await startService(args.store);
  try {
    const { child, info } = await startTs('bench/app/main.ts', {
      name,
      execArgv: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
      env: {
        BENCH_PLATFORM: args.platform,
        BENCH_LIBRARY: args.library,
        BENCH_STORE: args.store,
        BENCH_REDIS_URL: args.store === 'redis' ? `redis://127.0.0.1:${service.port}` : '',
        BENCH_PG_PORT: args.store === 'postgres' ? String(service.port) : '',
        BENCH_SQLITE_FILE: args.store === 'sqlite' ? path.join(profileDir, 'bench.db') : '',
      },
    });
    const url = `http://127.0.0.1:${info.port}`;
    const cookies = scenario.cookie
      ? await cookiesFor(args.library, url, args.connections)
      : undefined;
    const run = (durationSec) =>
      drive({
        url: url + scenario.path,
        method: scenario.method,
        cookies,
        durationSec,
        connections: args.connections,
      });
    // Warm up first: the profile is of the steady state, not of the JIT's first minutes.
    await run(2);
    if (args.allocations) await ask(child, 'allocations-start');
    const from = (await ask(child, 'clock')).micros;
    const result = await run(args.seconds);
    window = [from, (await ask(child, 'clock')).micros];
    if (args.allocations) {
      allocations = path.join(profileDir, 'allocations.heapprofile');
      await ask(child, 'allocations-stop', 60_000, { file: allocations });
    }
    process.stderr.write(`${name}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms\n`);
    await stop(child, 15_000);
  } finally {
    if (service) await stop(service.child, 25_000);
  }
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profileDir}`);
  const profile = JSON.parse(readFileSync(path.join(profileDir, file), 'utf8'));
  process.stdout.write(`${name}\n${report(analyze(profile, ...window), args.top)}\n`);
  if (allocations) {
    const heap = JSON.parse(readFileSync(allocations, 'utf8'));
    process.stdout.write(`\n${allocationReport(heap, args.top)}\n`);
  }
  process.stdout.write(`\nprofile: ${path.relative(ROOT, path.join(profileDir, file))}\n`);
}
