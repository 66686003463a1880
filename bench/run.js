#!/usr/bin/env node
// `npm run bench` / `node bench/run.js [--quick] [--groups=memory,redis,sql] [--no-memory]`, or
// `node bench/run.js --soak [--soak-seconds=N]` (the soak alone, bench/lib/soak.mjs).
// The orchestrator is plain ES modules under bench/lib (no build step); this is its entry point.
// A failure rejects, and Node exits non-zero with the error after the children were killed.
void import('./lib/run.mjs').then(async ({ main }) => {
  await main();
  // Done: the children are stopped; nothing must keep the orchestrator alive.
  globalThis.process.exit(0);
});
