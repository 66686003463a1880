#!/usr/bin/env node
// `node scripts/test-services.js`: the pretest step. The Redis and TypeORM suites start their own
// redis-server and PostgreSQL 15 (test/support/redis-server.ts, test/support/postgres.ts); this
// checks that the binaries they spawn are where they look, installs the missing ones when it can
// (root on Debian, through apt-get), and otherwise stops with the command to run. Without it a
// fresh machine gets dozens of `spawn /usr/bin/redis-server ENOENT` failures instead of one line.
//
// Plain CommonJS with no dependencies: it runs before (and without) node_modules.
// TESSERA_TEST_SERVICES_INSTALL=0 never installs, only checks and explains.
'use strict';
// ESLint's config is written for TypeScript modules; this file is CommonJS run by plain Node.
/* global require, process, console */
/* eslint-disable @typescript-eslint/no-require-imports */

const { spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const { delimiter, join } = require('node:path');

// The same paths and overrides as the test helpers: what they spawn is what is checked here.
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SERVICES = [
  {
    name: 'redis-server',
    path: process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server',
    env: 'REDIS_SERVER_BIN',
    pkg: 'redis-server',
  },
  {
    name: 'redis-cli',
    path: process.env.REDIS_CLI_BIN ?? '/usr/bin/redis-cli',
    env: 'REDIS_CLI_BIN',
    pkg: 'redis-tools',
  },
  // The three PostgreSQL binaries come in one package and share one override (a directory).
  ...['postgres', 'initdb', 'pg_ctl'].map((name) => ({
    name,
    path: join(PG_BIN, name),
    env: 'PG_BIN',
    pkg: 'postgresql-15',
  })),
];

const isRoot = process.getuid?.() === 0;
const installAllowed = process.env.TESSERA_TEST_SERVICES_INSTALL !== '0';

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, to suggest an override when it is not where tests look. */
function onPath(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** `binary --version`'s first line, or '' when it does not answer. */
function version(path) {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return (result.stdout || '').split('\n')[0].trim();
}

/** PostgreSQL refuses to run as root: as root the tests run it as `postgres`, through runuser. */
function postgresUserProblem() {
  if (!isRoot) return undefined;
  if (spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status !== 0) {
    return [
      'the `postgres` user does not exist. PostgreSQL refuses to run as root, so as root the tests',
      'start it as that user (the Debian package postgresql-common creates it). Create it with',
      '  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres',
      'or run `npm test` as a non-root user.',
    ].join('\n');
  }
  if (!onPath('runuser')) {
    return 'runuser (util-linux) is not on PATH: as root the tests need it to run PostgreSQL as `postgres`.';
  }
  return undefined;
}

function missing() {
  return SERVICES.filter((service) => !isExecutable(service.path));
}

/** `apt-get update` once, then one `apt-get install` of every missing package. */
function aptInstall(packages) {
  console.log(`test services: installing ${packages.join(' ')} (apt-get, as root)`);
  const options = {
    // Show apt's errors, not its progress; never wait on stdin (CI has none).
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  };
  const update = spawnSync('apt-get', ['update', '-qq'], options);
  if (update.status !== 0) return false;
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], options);
  return install.status === 0;
}

/** Everything that is wrong, and the exact ways out; then exit 1. */
function fail(absent, userProblem, installFailed) {
  const lines = ['test services: `npm test` cannot start the servers its suites need:'];
  for (const service of absent) {
    const from = process.env[service.env] !== undefined ? ` (from ${service.env})` : '';
    lines.push(`  ${service.name}: nothing executable at ${service.path}${from}`);
  }
  if (userProblem) lines.push(`  ${userProblem.replace(/\n/g, '\n  ')}`);

  if (absent.length > 0) {
    const unique = (list) => [...new Set(list)];
    const packages = unique(absent.map((service) => service.pkg));
    const sudo = isRoot ? '' : 'sudo ';
    if (installFailed) {
      lines.push('apt-get could not install them (its errors are above). Where apt has no');
      lines.push('postgresql-15, add https://wiki.postgresql.org/wiki/Apt or set PG_BIN as below.');
    }
    lines.push('Install them:');
    lines.push(
      onPath('apt-get')
        ? `  ${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(' ')}`
        : '  Redis 7 or newer and PostgreSQL 15, with your package manager',
    );
    // An override that points at nothing wins over an installed binary: it has to go.
    const wrong = unique(absent.filter((s) => process.env[s.env] !== undefined).map((s) => s.env));
    if (wrong.length > 0) {
      lines.push(
        `  then unset ${wrong.join(' and ')}: ${wrong.length > 1 ? 'they point' : 'it points'} at nothing`,
      );
    }
    lines.push('or point the tests at binaries you already have:');
    const overrides = unique(absent.map((service) => service.env)).map((env) => {
      if (env === 'PG_BIN') return 'PG_BIN=/path/to/postgresql/15/bin';
      const name = SERVICES.find((service) => service.env === env).name;
      return `${env}=${onPath(name) || `/path/to/${name}`}`;
    });
    lines.push(`  ${overrides.join(' ')} npm test`);
  }
  console.error(lines.join('\n'));
  process.exit(1);
}

function main() {
  let absent = missing();
  let installFailed = false;
  // Install only what apt can put where the tests look: a wrong override is the user's to fix.
  const installable = absent.filter((service) => process.env[service.env] === undefined);
  if (installable.length > 0 && installAllowed && isRoot && onPath('apt-get')) {
    installFailed = !aptInstall([...new Set(installable.map((service) => service.pkg))]);
    absent = missing();
  }
  const userProblem = absent.some((service) => service.env === 'PG_BIN')
    ? undefined // no point checking the user before the binaries are there
    : postgresUserProblem();
  if (absent.length > 0 || userProblem) fail(absent, userProblem, installFailed);

  // One line per service, with its version: redis-server's also says whether the Cluster suite
  // (which needs Redis 7's --cluster-port) can run.
  const redis = (/v=([\d.]+)/.exec(version(SERVICES[0].path)) || [])[1];
  console.log(
    `test services: redis-server ${SERVICES[0].path} (${redis ? `Redis ${redis}` : 'no version'})`,
  );
  if (redis && Number(redis.split('.')[0]) < 7) {
    console.error(
      'test services: the Redis Cluster suite needs Redis 7 or newer (--cluster-port); ' +
        'install a newer redis-server or set REDIS_SERVER_BIN and REDIS_CLI_BIN to one.',
    );
    process.exit(1);
  }
  console.log(`test services: redis-cli ${SERVICES[1].path}`);
  const postgres = (/PostgreSQL\) ([\d.]+)/.exec(version(join(PG_BIN, 'postgres'))) || [])[1];
  console.log(
    `test services: postgres, initdb, pg_ctl in ${PG_BIN} (${postgres ? `PostgreSQL ${postgres}` : 'no version'})`,
  );
  if (isRoot) console.log('test services: user postgres (PostgreSQL runs as it, not as root)');
}

main();
