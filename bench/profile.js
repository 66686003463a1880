#!/usr/bin/env node
// `node bench/profile.js --platform=express|fastify
//   --library=tessera|express-session|fastify-session|bare|noop-middleware|als-middleware|accessor-middleware
//   --store=memory|redis|sqlite|postgres --scenario=plain|read|write|login [--seconds=10]`:
// one contender under `node --cpu-prof`, its top self-time frames (ours marked) on stdout.
void import('./lib/profile.mjs').then(async ({ main }) => {
  await main();
  globalThis.process.exit(0);
});
