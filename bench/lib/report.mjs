/**
 * From raw runs to the markdown report: medians of the interleaved rounds with their min–max, the
 * ratio to the bare ceiling on the same platform and route, the server time the session layer
 * adds per request, the ratio to the competitor on the same platform and store, the targets of
 * issue 11, and the machine it ran on.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import process from 'node:process';
import { LIBRARY_LABEL, STORE_LABEL } from './plan.mjs';

/**
 * Issue 11's targets, for Tessera. Added server time per request (memory store; scenario 1 has
 * no cookie and touches no store), the ratio to the competitor (memory store; Redis, against
 * express-session + connect-redis and @fastify/session + connect-redis), and peak RSS at most
 * 10 % above the competitor's (memory store and Redis, scenarios 1 to 3). On both platforms.
 */
const TARGETS = {
  addedMicros: { plain: 3, read: 20, write: 30 },
  vsCompetitor: {
    memory: { plain: 1.0, read: 1.3, write: 1.3 },
    redis: { read: 1.2, write: 1.2 },
  },
  rssOverCompetitor: {
    max: 1.1,
    scenarios: { memory: ['plain', 'read', 'write'], redis: ['read', 'write'] },
  },
};

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
 * One row per contender × scenario: `runs` are its interleaved rounds (one fresh process each,
 * with that process's peak RSS in bytes), `storeOps` the store work summed over them (Redis:
 * calls by command; SQL: statements).
 */
export function summarize(rows) {
  for (const row of rows) {
    const rps = row.runs.map((r) => r.rps);
    row.rpsMedian = median(rps);
    row.rpsMin = Math.min(...rps);
    row.rpsMax = Math.max(...rps);
    row.p99Median = median(row.runs.map((r) => r.p99));
    const rss = row.runs.map((r) => r.peakRss).filter((n) => n !== undefined);
    row.peakRss = rss.length > 0 ? median(rss) : undefined;
    row.requests = row.runs.reduce((n, r) => n + r.requests, 0);
    row.failures = row.runs.reduce((n, r) => n + r.failures, 0);
  }
  const find = (where) => rows.filter((r) => Object.keys(where).every((k) => r[k] === where[k]));
  for (const row of rows) {
    // The ceiling: bare Nest on the same platform and the same route (its own scenario).
    const ceiling = find({ scenario: row.scenario, platform: row.platform, library: 'bare' })[0];
    if (ceiling && row.library !== 'bare') {
      row.vsCeiling = row.rpsMedian / ceiling.rpsMedian;
      row.addedMicros = 1e6 / row.rpsMedian - 1e6 / ceiling.rpsMedian;
    } else if (ceiling) {
      row.vsCeiling = 1;
    }
    if (row.library === 'tessera') {
      const rival = find({ scenario: row.scenario, platform: row.platform, store: row.store }).find(
        (r) => r.library !== 'tessera' && r.library !== 'bare',
      );
      if (rival) {
        row.rival = rival;
        row.vsCompetitor = row.rpsMedian / rival.rpsMedian;
      }
    }
  }
  return rows;
}

const PLATFORMS = ['express', 'fastify'];
/** The competitor on each platform. */
const RIVAL = { express: 'express-session', fastify: 'fastify-session' };

/** Issue 11's targets, computed from the summarized rows: one entry each, met or missed by how much. */
export function targets(rows) {
  const out = [];
  const tessera = (platform, store, scenario) =>
    rows.find(
      (r) =>
        r.library === 'tessera' &&
        r.platform === platform &&
        r.store === store &&
        r.scenario === scenario,
    );
  const add = (what, platform, row, value, format, limit, atMost, formatMiss = format) => {
    if (!row || value === undefined) {
      out.push({ what, platform, measured: 'not measured', status: '—' });
      return;
    }
    const met = atMost ? value <= limit : value >= limit;
    out.push({
      what,
      platform,
      measured: format(value),
      status: met ? 'met' : `missed by ${formatMiss(Math.abs(value - limit))}`,
      met,
    });
  };
  const micros = (n) => `${n.toFixed(1)} µs`;
  const times = (n) => `${n.toFixed(2)}×`;
  const percent = (n) => `${Math.round(n * 100)} %`;
  for (const platform of PLATFORMS) {
    for (const [scenario, limit] of Object.entries(TARGETS.addedMicros)) {
      const row = tessera(platform, 'memory', scenario);
      add(
        `${scenario}: added server time ≤ ${limit} µs/req (memory store)`,
        platform,
        row,
        row?.addedMicros,
        micros,
        limit,
        true,
      );
    }
    for (const [store, byScenario] of Object.entries(TARGETS.vsCompetitor)) {
      for (const [scenario, limit] of Object.entries(byScenario)) {
        const row = tessera(platform, store, scenario);
        const rival = LIBRARY_LABEL[RIVAL[platform]];
        const connect = store === 'redis' ? ' + connect-redis' : '';
        add(
          `${scenario}: ≥ ${limit.toFixed(1)}× ${rival}${connect} (${STORE_LABEL[store]})`,
          platform,
          row,
          row?.vsCompetitor,
          times,
          limit,
          false,
        );
      }
    }
    const { scenarios: rssScenarios, max } = TARGETS.rssOverCompetitor;
    for (const [store, scenarios] of Object.entries(rssScenarios)) {
      for (const scenario of scenarios) {
        const row = tessera(platform, store, scenario);
        const ratio =
          row?.peakRss && row.rival?.peakRss ? row.peakRss / row.rival.peakRss - 1 : undefined;
        add(
          `${scenario}: peak RSS ≤ competitor + ${Math.round((max - 1) * 100)} % (${STORE_LABEL[store]})`,
          platform,
          row,
          ratio,
          (n) => `${Math.round(n * 100) >= 0 ? '+' : ''}${percent(n)}`,
          max - 1,
          true,
          (n) => `${(n * 100).toFixed(0)} points`,
        );
      }
    }
  }
  return out;
}

function targetsSection(rows) {
  const list = targets(rows);
  const measured = list.filter((t) => t.met !== undefined);
  const met = measured.filter((t) => t.met).length;
  const out = [
    `### Targets (issue 11): ${met} of ${measured.length} met`,
    '',
    '| target | platform | measured | status |',
    '| --- | --- | ---: | --- |',
  ];
  for (const t of list) {
    const status = t.met === undefined ? t.status : t.met ? '✓ met' : `✗ ${t.status}`;
    out.push(`| ${t.what} | ${t.platform} | ${t.measured} | ${status} |`);
  }
  out.push('');
  return out.join('\n');
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

/** The markdown tables, one per scenario. */
function tables(rows, scenarios) {
  const out = [];
  for (const scenario of scenarios) {
    const ofScenario = rows.filter((r) => r.scenario === scenario.id);
    if (ofScenario.length === 0) continue;
    out.push(`### ${scenario.title}`, '');
    out.push(
      '| platform | store | library | req/s median (min–max) | p99 ms | × ceiling | added µs/req | × competitor | peak RSS MB | store ops/req |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const row of ofScenario) {
      const failures = row.failures > 0 ? ` ⚠ ${row.failures} failed` : '';
      out.push(
        `| ${row.platform} | ${STORE_LABEL[row.store]} | ${LIBRARY_LABEL[row.library]} | ` +
          `${thousands(row.rpsMedian)} (${thousands(row.rpsMin)}–${thousands(row.rpsMax)})${failures} | ` +
          `${fixed(row.p99Median, 1)} | ${fixed(row.vsCeiling, 2)} | ${fixed(row.addedMicros, 1)} | ` +
          `${fixed(row.vsCompetitor, 2)} | ` +
          `${row.peakRss === undefined ? '—' : (row.peakRss / 2 ** 20).toFixed(0)} | ${storeOps(row)} |`,
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
      `${mode.rounds} interleaved rounds (A B C, B C A, …); in each round every contender is a fresh process, and each scenario gets ` +
      `a ${mode.warmupSec} s warm-up on it, then ${mode.durationSec} s measured; ${mode.connections} connections, ` +
      `autocannon in the orchestrator process; run started ${startedAt}, took ${Math.round(elapsedSec)} s).`,
    '- req/s: the median of the rounds, with their min–max; p99: the median of the rounds. × ceiling: req/s over the bare Nest app ' +
      '(no session layer) of the same platform on the same route; it answers every route, and gets a cookie of the same length on 2 and 3. ' +
      'Added µs/req: the server time the session layer adds per request, `1e6/rps − 1e6/ceiling_rps`. × competitor: Tessera over the other ' +
      "library on the same platform and store. Redis and SQL rows use the memory group's ceiling (bare Nest has no store).",
    "- Peak RSS: the app process's peak resident set during that scenario (VmHWM, reset before each scenario's warm-up), the median of the rounds; it includes ts-node's TypeScript compiler, the same for every contender.",
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
    targetsSection(rows),
    memoryTable(memory),
  ].join('\n');
}
