/**
 * The memory-growth run (`node bench/memory.js [--quick]`, also part of the full `npm run bench`):
 * 1,000,000 sessions that expire, in Tessera's MemoryStore and in express-session's, each in its
 * own process so neither heap sees the other. The heap is read after `global.gc()` before the
 * fill, at the peak, once every session has expired and one sweep has run, and after a full read
 * (`length()`), which is the only thing that makes express-session's store drop expired sessions.
 */
import process from 'node:process';
import { installCleanup, startTs, stop } from './children.mjs';
import { memoryTable } from './report.mjs';

const STORES = [
  { kind: 'tessera', label: 'Tessera MemoryStore (sweepInterval 1 s)' },
  { kind: 'express-session', label: "express-session's MemoryStore" },
];

export async function runMemory({ count, log = () => undefined }) {
  const results = [];
  for (const { kind, label } of STORES) {
    log(`memory growth: ${count.toLocaleString('en-US')} sessions in ${label}…`);
    // Sessions expire this long after the fill starts: 20 s for a million (a fill takes about
    // 5 s on 2 cores), at least 3 s; the child fails loudly if the fill ever runs past it.
    const expireMs = Math.max(3_000, Math.round((count / 1_000_000) * 20_000));
    const { child, info } = await startTs('bench/memory/fill.ts', {
      name: `memory/${kind}`,
      readyType: 'result',
      execArgv: ['--expose-gc', '--max-old-space-size=4096'],
      env: {
        BENCH_MEMORY_STORE: kind,
        BENCH_MEMORY_COUNT: String(count),
        BENCH_MEMORY_EXPIRE_MS: String(expireMs),
        BENCH_MEMORY_SWEEP_MS: '1000',
      },
      timeoutMs: expireMs + 180_000,
    });
    await stop(child);
    results.push({ ...info, kind, label });
    const mb = (n) => `${(n / 2 ** 20).toFixed(1)} MB`;
    log(
      `  before ${mb(info.before)}, peak ${mb(info.peak)}, after expiry ${mb(info.afterWait)}, ` +
        `after length() ${mb(info.afterRead)} (fill ${info.fillSec.toFixed(1)} s)`,
    );
  }
  return results;
}

/** `node bench/memory.js [--quick]`: the memory-growth run alone, its table on stdout. */
export async function main() {
  installCleanup();
  const count = process.argv.includes('--quick') ? 100_000 : 1_000_000;
  const memory = await runMemory({ count, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${memoryTable(memory)}\n`);
}
