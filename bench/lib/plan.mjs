/**
 * What a run measures: the contender table, grouped by store (a group's contenders run
 * interleaved, so they are compared under the same machine conditions), and the two modes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './children.mjs';

export const LIBRARY_LABEL = {
  bare: 'bare Nest (ceiling)',
  tessera: 'Tessera',
  'express-session': 'express-session (nestjs-session)',
  'fastify-session': '@fastify/session',
};

export const STORE_LABEL = {
  none: '—',
  memory: 'memory',
  redis: 'Redis',
  sqlite: 'SQLite (TypeORM)',
  postgres: 'PostgreSQL (TypeORM)',
};

function contender(platform, library, store) {
  return { id: `${platform}/${library}/${store}`, platform, library, store };
}

/**
 * The contender table. A group = one kind of store, run interleaved; the services its contenders
 * need (Redis, PostgreSQL) are started before it and stopped after it. `needs` are files that must
 * exist (a store another helper is still writing), or the group is skipped with a note.
 */
export const GROUPS = [
  {
    name: 'memory',
    needs: [],
    contenders: [
      contender('express', 'bare', 'none'),
      contender('express', 'tessera', 'memory'),
      contender('express', 'express-session', 'memory'),
      contender('fastify', 'bare', 'none'),
      contender('fastify', 'tessera', 'memory'),
      contender('fastify', 'fastify-session', 'memory'),
    ],
  },
  {
    name: 'redis',
    needs: ['lib/redis/index.ts'],
    contenders: [
      contender('express', 'tessera', 'redis'),
      contender('express', 'express-session', 'redis'),
      contender('fastify', 'tessera', 'redis'),
      contender('fastify', 'fastify-session', 'redis'),
    ],
  },
  {
    name: 'sql',
    needs: ['lib/typeorm/index.ts'],
    // express-session runs on Tessera's TypeOrmStore (it is a connect store too): the only SQL
    // store both can use, so the comparison is of the session layers on the same table.
    contenders: [
      contender('express', 'tessera', 'sqlite'),
      contender('express', 'express-session', 'sqlite'),
      contender('express', 'tessera', 'postgres'),
      contender('express', 'express-session', 'postgres'),
    ],
  },
];

/**
 * The method of issue 11. full: every group, every scenario (scenario 1, which no library answers
 * from its store, only on the memory group), 50 connections, 3 interleaved rounds; in each round
 * every contender is a fresh process, and each scenario gets a 3 s warm-up on it, then 10 s
 * measured. The memory-growth run with 1,000,000 sessions. About 35 minutes on 2 cores.
 * quick: the memory group only, scenarios 1 to 3 (the ones with targets), 2 rounds of 1 s after a
 * 0.5 s warm-up, 100,000 sessions in the memory-growth run: under 2 minutes, no services.
 * `limitMin`: the hard ceiling on the run; whatever happens, it ends.
 */
export const MODES = {
  full: {
    groups: ['memory', 'redis', 'sql'],
    rounds: 3,
    durationSec: 10,
    warmupSec: 3,
    connections: 50,
    memorySessions: 1_000_000,
    limitMin: 60,
  },
  quick: {
    groups: ['memory'],
    scenarios: ['plain', 'read', 'write'],
    rounds: 2,
    durationSec: 1,
    warmupSec: 0.5,
    connections: 50,
    memorySessions: 100_000,
    limitMin: 5,
  },
};

/**
 * The soak (`--soak`): Tessera and the competitor on each platform, memory store, the write
 * scenario at full load for `--soak-seconds` (300 by default) each, one after the other, RSS and
 * heap sampled every `sampleSec`.
 */
export const SOAK = {
  contenders: GROUPS[0].contenders.filter((c) => c.library !== 'bare'),
  scenario: 'write',
  seconds: 300,
  sampleSec: 10,
  warmupSec: 3,
  connections: 50,
};

/** Scenario 1 touches no store for anyone: measured once, on the memory group. */
export function scenariosFor(group, scenarios) {
  return group.name === 'memory' ? scenarios : scenarios.filter((s) => s.id !== 'plain');
}

/** Why a group cannot run (a store file still missing), or undefined. */
export function missingFiles(group) {
  const missing = group.needs.filter((file) => !existsSync(path.join(ROOT, file)));
  return missing.length > 0 ? `${missing.join(', ')} not written yet` : undefined;
}
