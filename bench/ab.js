#!/usr/bin/env node
// `node bench/ab.js --base=<git ref> [--against=<git ref>] --platform=express|fastify
//   --scenario=plain|read|write|login [--sets=6] [--runs=4] [--seconds=3]`: Tessera at <ref> (A)
// against this checkout or --against (B), side by side (bench/lib/ab.mjs). Prints each pair of
// processes and the medians of B/A.
void import('./lib/ab.mjs').then(async ({ main }) => {
  await main();
  globalThis.process.exit(0);
});
