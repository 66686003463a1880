/**
 * The soak (`npm run bench -- --soak [--soak-seconds=N]`, not part of the default run): Tessera
 * and the competitor on each platform, memory store, the write scenario at full load for N
 * seconds each (300 by default), one contender at a time, each in a fresh `--expose-gc` process.
 * Every 10 s the app reports `process.memoryUsage()` over its IPC channel (after a `global.gc()`,
 * so heap used is what it retains, not garbage not yet collected).
 *
 * Rule: after the warm-up, the samples of the early window (the second minute: 60 s < t ≤ 120 s)
 * are compared with those of the late window (the last minute: t > N − 60 s); with N under
 * 180 s the windows are thirds of the run instead (w = N/3: w < t ≤ 2w, and t > N − w). Memory
 * grew when the late mean is above the early mean by more than 5 % and more than 2 MB; heap used
 * and RSS are judged separately.
 */
import { ask, startTs, stop } from './children.mjs';
import { SCENARIOS, cookiesFor, drive } from './load.mjs';
import { LIBRARY_LABEL, SOAK } from './plan.mjs';
import { machine } from './report.mjs';

const GROWTH_FRACTION = 0.05;
const GROWTH_BYTES = 2 * 2 ** 20;

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const mb = (n) => (n === undefined ? '—' : (n / 2 ** 20).toFixed(1));

/** The two windows of the rule, in seconds since the load started. */
export function windows(seconds) {
  const w = Math.min(60, seconds / 3);
  return { early: [w, 2 * w], late: [seconds - w, seconds] };
}

/** Early and late means of one metric, and whether it grew by the rule. */
export function growth(samples, metric, seconds) {
  const { early, late } = windows(seconds);
  const pick = ([from, to]) => samples.filter((s) => s.t > from && s.t <= to).map((s) => s[metric]);
  const a = pick(early);
  const b = pick(late);
  if (a.length === 0 || b.length === 0) return { verdict: 'too short to tell' };
  const earlyMean = mean(a);
  const lateMean = mean(b);
  const delta = lateMean - earlyMean;
  const grew = delta > GROWTH_FRACTION * earlyMean && delta > GROWTH_BYTES;
  return { earlyMean, lateMean, delta, grew, verdict: grew ? 'grew' : 'flat' };
}

async function soakOne(contender, seconds, log) {
  const scenario = SCENARIOS.find((s) => s.id === SOAK.scenario);
  const { child, info } = await startTs('bench/app/main.ts', {
    name: contender.id,
    execArgv: ['--expose-gc'],
    env: {
      BENCH_PLATFORM: contender.platform,
      BENCH_LIBRARY: contender.library,
      BENCH_STORE: contender.store,
    },
  });
  try {
    const url = `http://127.0.0.1:${info.port}`;
    const cookies = await cookiesFor(contender.library, url, SOAK.connections);
    const load = (durationSec) =>
      drive({
        url: url + scenario.path,
        method: scenario.method,
        cookies,
        durationSec,
        connections: SOAK.connections,
      });
    await load(SOAK.warmupSec);
    const samples = [];
    const sample = async (t) => {
      const { memory } = await ask(child, 'stats', 10_000);
      samples.push({ t, rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal });
      log(
        `  ${contender.id.padEnd(32)} t=${String(t).padStart(4)} s  ` +
          `heap ${mb(memory.heapUsed)} MB  RSS ${mb(memory.rss)} MB`,
      );
    };
    const started = Date.now();
    const running = load(seconds);
    for (let t = SOAK.sampleSec; t <= seconds; t += SOAK.sampleSec) {
      const wait = started + t * 1000 - Date.now();
      if (wait > 0) await new Promise((resolve) => globalThis.setTimeout(resolve, wait));
      await sample(t);
    }
    const run = await running;
    return {
      ...contender,
      seconds,
      rps: run.rps,
      failures: run.failures,
      samples,
      heap: growth(samples, 'heapUsed', seconds),
      rss: growth(samples, 'rss', seconds),
    };
  } finally {
    await stop(child);
  }
}

function render(results, seconds, version) {
  const m = machine();
  const { early, late } = windows(seconds);
  const win = ([a, b]) => `${Math.round(a)} s < t ≤ ${Math.round(b)} s`;
  const delta = (g) =>
    g.delta === undefined ? '—' : `${g.delta >= 0 ? '+' : ''}${mb(g.delta)} MB`;
  const out = [
    `## Soak: scenario 3 (existing session, changed), memory store, ${seconds} s at full load each`,
    '',
    `- Tessera: ${version}. Machine: ${m.cpus} × ${m.cpu}, Node.js ${m.node}.`,
    `- Command: \`npm run bench -- --soak${seconds === SOAK.seconds ? '' : ` --soak-seconds=${seconds}`}\`. ` +
      `One contender at a time, a fresh \`--expose-gc\` process each, ${SOAK.connections} connections ` +
      `(one session each), ${SOAK.warmupSec} s warm-up, then RSS and heap used (after \`global.gc()\`) every ${SOAK.sampleSec} s over IPC.`,
    `- Rule: early window ${win(early)}, late window ${win(late)} (t from the end of the warm-up; the second and the last minute, ` +
      'or thirds of a run under 180 s). Grew = the late mean above the early mean by more than 5 % and more than 2 MB.',
    '',
    '| platform | library | req/s | heap early MB | heap late MB | Δ heap | heap | RSS early MB | RSS late MB | Δ RSS | RSS |',
    '| --- | --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | :---: |',
  ];
  for (const r of results) {
    const failed = r.failures > 0 ? ` ⚠ ${r.failures} failed` : '';
    out.push(
      `| ${r.platform} | ${LIBRARY_LABEL[r.library]} | ${Math.round(r.rps).toLocaleString('en-US')}${failed} | ` +
        `${mb(r.heap.earlyMean)} | ${mb(r.heap.lateMean)} | ${delta(r.heap)} | ${r.heap.verdict} | ` +
        `${mb(r.rss.earlyMean)} | ${mb(r.rss.lateMean)} | ${delta(r.rss)} | ${r.rss.verdict} |`,
    );
  }
  out.push('', '### Samples (MB; heap used / RSS)', '');
  const times = results[0]?.samples.map((s) => s.t) ?? [];
  out.push(
    `| t s | ${results.map((r) => `${r.platform} ${LIBRARY_LABEL[r.library]}`).join(' | ')} |`,
    `| ---: | ${results.map(() => '---:').join(' | ')} |`,
  );
  for (const t of times) {
    const cells = results.map((r) => {
      const s = r.samples.find((x) => x.t === t);
      return s ? `${mb(s.heapUsed)} / ${mb(s.rss)}` : '—';
    });
    out.push(`| ${t} | ${cells.join(' | ')} |`);
  }
  out.push('');
  return out.join('\n');
}

/** Runs the soak; resolves with the markdown and the raw results. */
export async function runSoak({ seconds, log, version }) {
  log(`\n== soak: ${SOAK.contenders.map((c) => c.id).join(', ')}, ${seconds} s each`);
  const results = [];
  for (const contender of SOAK.contenders) results.push(await soakOne(contender, seconds, log));
  return { markdown: render(results, seconds, version), results };
}
