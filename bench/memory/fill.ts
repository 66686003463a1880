/**
 * One memory-growth run, in its own process (started by bench/memory.js with --expose-gc):
 * fills one MemoryStore with sessions that all expire at the same moment, through the store API
 * directly (no HTTP: the point is what the store keeps, not the request path), waits past that
 * moment plus one sweep interval, and reports the heap before, at the peak and after.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

type Kind = 'tessera' | 'express-session';

/** The part of a store the run uses, promise-style. */
interface FillableStore {
  set(sid: string, session: object): Promise<unknown>;
  length(): Promise<number>;
  close(): void;
}

const kind = process.env.BENCH_MEMORY_STORE as Kind;
const count = Number(process.env.BENCH_MEMORY_COUNT ?? 1_000_000);
/** How long after the start of the fill every session expires. */
const expireAfterMs = Number(process.env.BENCH_MEMORY_EXPIRE_MS ?? 30_000);
const sweepMs = Number(process.env.BENCH_MEMORY_SWEEP_MS ?? 1_000);
const BATCH = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function makeStore(): Promise<FillableStore> {
  if (kind === 'tessera') {
    // The store module alone, not the package entry: the baseline then holds no Nest either.
    const { MemoryStore } = await import('../../lib/stores/memory.store');
    // `max` above the count: the run is about expiry, not about the bound dropping sessions.
    const store = new MemoryStore({ max: count + 1, sweepInterval: sweepMs });
    return {
      set: (sid, session) => store.set(sid, session as never),
      length: () => store.length(),
      close: () => store.close(),
    };
  }
  if (kind === 'express-session') {
    const { MemoryStore } = await import('express-session');
    const store = new MemoryStore();
    return {
      set: promisify(store.set.bind(store)) as FillableStore['set'],
      length: async () => (await promisify(store.length.bind(store))()) ?? 0,
      close: () => undefined,
    };
  }
  throw new Error(`BENCH_MEMORY_STORE must be tessera or express-session, got ${kind}`);
}

/** Heap used (bytes) once everything unreachable has been collected. */
function heapUsed(): number {
  global.gc!();
  global.gc!();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  if (!global.gc) throw new Error('run with --expose-gc');
  const store = await makeStore();
  const before = heapUsed();

  const start = Date.now();
  const deadline = start + expireAfterMs;
  // What express-session's Cookie#toJSON() writes; every session expires at `deadline`.
  const cookie = {
    originalMaxAge: expireAfterMs,
    expires: new Date(deadline).toISOString(),
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
  for (let i = 0; i < count; i += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + BATCH, count); j++) {
      // Tessera's default id: 32 random bytes, base64url (43 characters), for both stores.
      const sid = randomBytes(32).toString('base64url');
      batch.push(store.set(sid, { cookie, userId: `user-${j}`, views: 1 }));
    }
    await Promise.all(batch);
  }
  const fillSec = (Date.now() - start) / 1000;
  if (Date.now() >= deadline) {
    throw new Error(
      `filling took ${fillSec} s, past the expiry (${expireAfterMs} ms): raise BENCH_MEMORY_EXPIRE_MS`,
    );
  }
  const peak = heapUsed();

  await sleep(deadline - Date.now() + sweepMs + 500);
  const afterWait = heapUsed();
  const left = await store.length();
  const afterRead = heapUsed();
  store.close();
  process.send!({ type: 'result', count, before, peak, afterWait, afterRead, left, fillSec });
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
