#!/usr/bin/env node
// `node bench/memory.js [--quick]`: the memory-growth run alone (the full `npm run bench` runs it
// too). Plain ES modules under bench/lib, no build step.
void import('./lib/memory.mjs').then(async ({ main }) => {
  await main();
  globalThis.process.exit(0);
});
