/**
 * From raw runs to the markdown report: medians of the interleaved rounds, the ratios (to the
 * bare ceiling, to the best competitor on the same platform and store), the targets of issue 6,
 * and the machine it ran on.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import process from 'node:process';
import { LIBRARY_LABEL, STORE_LABEL } from './plan.mjs';

/** Issue 6's targets: ≥ 1.3× the competitor on read and write, ≥ 0.9× the ceiling on scenario 1. */
const TARGET_VS_COMPETITOR = 1.3;
const TARGET_VS_CEILING = 0.9;

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The machine, as the README should state it. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1].trim();
  } catch {
    // Not Linux: os.cpus() it is.
  }
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    node: process.version,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
  };
}

/**
 * One row per contender × scenario: `runs` are its interleaved rounds, `storeOps` the store
 * work summed over them (Redis: calls by command; SQL: statements), `peakRss` in bytes.
 */
export function summarize(rows) {
  for (const row of rows) {
    row.rpsMedian = median(row.runs.map((r) => r.rps));
    // Half the range of the rounds, relative to the median: how far to trust the row.
    const rps = row.runs.map((r) => r.rps);
    row.spread = (Math.max(...rps) - Math.min(...rps)) / 2 / row.rpsMedian;
    row.p99Median = median(row.runs.map((r) => r.p99));
    row.requests = row.runs.reduce((n, r) => n + r.requests, 0);
    row.failures = row.runs.reduce((n, r) => n + r.failures, 0);
  }
  const find = (where) => rows.filter((r) => Object.keys(where).every((k) => r[k] === where[k]));
  for (const row of rows) {
    const ceiling = find({ scenario: 'plain', platform: row.platform, library: 'bare' })[0];
    row.vsCeiling = ceiling ? row.rpsMedian / ceiling.rpsMedian : undefined;
    if (row.library === 'tessera') {
      const rivals = find({ scenario: row.scenario, platform: row.platform, store: row.store })
        .filter((r) => r.library !== 'tessera' && r.library !== 'bare')
        .map((r) => r.rpsMedian);
      row.vsCompetitor = rivals.length > 0 ? row.rpsMedian / Math.max(...rivals) : undefined;
      if ((row.scenario === 'read' || row.scenario === 'write') && row.vsCompetitor !== undefined)
        row.target = row.vsCompetitor >= TARGET_VS_COMPETITOR;
      if (row.scenario === 'plain' && row.vsCeiling !== undefined)
        row.target = row.vsCeiling >= TARGET_VS_CEILING;
    }
  }
  return rows;
}

const fixed = (n, digits) => (n === undefined ? '—' : n.toFixed(digits));
const thousands = (n) => Math.round(n).toLocaleString('en-US');

function storeOps(row) {
  if (!row.storeOps || row.requests === 0) return '—';
  const { total, byKind } = row.storeOps;
  const perRequest = (n) => (n / row.requests).toFixed(2);
  const parts = Object.entries(byKind ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${perRequest(n)}`);
  return parts.length > 1 ? `${perRequest(total)} (${parts.join(', ')})` : perRequest(total);
}

function targetMark(row) {
  if (row.target === undefined) return '';
  return row.target ? '✓' : '✗ missed';
}

/** The markdown tables, one per scenario. */
function tables(rows, scenarios) {
  const out = [];
  for (const scenario of scenarios) {
    const ofScenario = rows.filter((r) => r.scenario === scenario.id);
    if (ofScenario.length === 0) continue;
    out.push(`### ${scenario.title}`, '');
    out.push(
      '| platform | store | library | req/s | ± | p99 ms | × ceiling | × best competitor | peak RSS MB | store ops/req | target |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | :---: |',
    );
    for (const row of ofScenario) {
      const failures = row.failures > 0 ? ` ⚠ ${row.failures} failed` : '';
      out.push(
        `| ${row.platform} | ${STORE_LABEL[row.store]} | ${LIBRARY_LABEL[row.library]} | ` +
          `${thousands(row.rpsMedian)}${failures} | ${(row.spread * 100).toFixed(0)} % | ${fixed(row.p99Median, 1)} | ` +
          `${fixed(row.vsCeiling, 2)} | ${fixed(row.vsCompetitor, 2)} | ` +
          `${row.peakRss === undefined ? '—' : (row.peakRss / 2 ** 20).toFixed(0)} | ` +
          `${storeOps(row)} | ${targetMark(row)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

export function memoryTable(memory) {
  if (!memory || memory.length === 0) return '';
  const mb = (n) => (n === undefined ? '—' : (n / 2 ** 20).toFixed(1));
  const out = [
    `### Memory growth: ${thousands(memory[0].count)} sessions that expire, store API directly (no HTTP)`,
    '',
    '| store | heap before MB | heap at peak MB | bytes/session | heap after expiry + sweep MB | heap after a full read MB | fill s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of memory) {
    out.push(
      `| ${m.label} | ${mb(m.before)} | ${mb(m.peak)} | ${thousands((m.peak - m.before) / m.count)} | ${mb(m.afterWait)} | ` +
        `${mb(m.afterRead)} | ${m.fillSec.toFixed(1)} |`,
    );
  }
  out.push(
    '',
    'Heap used after `global.gc()`. "After expiry + sweep": once every session has expired and ' +
      'one sweep interval has passed, with nothing read. "After a full read": after `length()`, which makes express-session\'s MemoryStore drop what it finds expired (it has no timer).',
    '',
  );
  return out.join('\n');
}

/** The whole report: header, one table per scenario, notes, memory growth. */
export function render({
  rows,
  scenarios,
  mode,
  modeName,
  memory,
  skipped,
  version,
  startedAt,
  elapsedSec,
}) {
  const m = machine();
  const notes = [
    `- Tessera: ${version ?? 'unknown'}.`,
    `- Machine: ${m.cpus} × ${m.cpu}, ${m.memoryGb} GB, ${m.os}, Node.js ${m.node}.`,
    `- Command: \`npm run bench${modeName === 'quick' ? ' -- --quick' : ''}\` (${modeName}: ` +
      `${mode.rounds} interleaved rounds of ${mode.durationSec} s per row after a ${mode.warmupSec} s warm-up, ` +
      `${mode.connections} connections, autocannon in the orchestrator process, each app in its own process; ` +
      `run started ${startedAt}, took ${Math.round(elapsedSec)} s).`,
    "- req/s and p99: the median of the rounds; ±: half the range of the rounds' req/s, relative to the median. × ceiling: req/s over the bare Nest app of the same platform on scenario 1. " +
      '× best competitor: Tessera over the other library on the same platform and store.',
    '- Targets (issue 6): Tessera ≥ 1.3× the competitor on scenarios 2 and 3; ≥ 0.90× the ceiling on scenario 1.',
    "- Peak RSS: the app process's peak resident set during that scenario (VmHWM, reset before each scenario); it includes ts-node's TypeScript compiler, the same for every contender.",
    '- Store ops/req: SQL statements (counted by a TypeORM logger in the app) or Redis commands (`INFO commandstats` deltas) per response. ' +
      "commandstats also counts the commands a Lua script runs: `evalsha 1 + get 1 + set 1` is Tessera's one-round-trip patch (the script reads and writes inside Redis).",
    '- Stores: Tessera uses its MemoryStore, RedisStore and TypeOrmStore; express-session its own MemoryStore, connect-redis, and ' +
      "Tessera's TypeOrmStore for SQL (it is a connect store too; there is no other TypeORM store to compare with); @fastify/session its own MemoryStore " +
      'and connect-redis. One node-redis client per app. All with the same cookie, `saveUninitialized: false`, `resave: false`, `rolling: false`.',
    '- Scenarios 2 and 3: each connection has its own session (logged in beforehand). Scenario 4: a visitor without a cookie logs in.',
  ];
  for (const why of skipped) notes.push(`- Not run: ${why}.`);
  return [
    '## Benchmark results',
    '',
    ...notes,
    '',
    tables(rows, scenarios),
    memoryTable(memory),
  ].join('\n');
}
