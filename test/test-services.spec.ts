import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', 'scripts', 'test-services.js');

/** Runs the pretest check with `env` on top of ours, never installing anything. */
function check(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [SCRIPT], {
    env: { ...process.env, ...env, TESSERA_TEST_SERVICES_INSTALL: '0' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/test-services.js (the pretest check)', () => {
  it('names every service it found and exits 0', () => {
    const { status, stdout, stderr } = check({});
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('test services: redis-server ');
    expect(stdout).toContain('test services: redis-cli ');
    expect(stdout).toContain('test services: postgres, initdb, pg_ctl in ');
  });

  it('stops at once on a missing binary, with the command that installs it and the override', () => {
    const { status, stdout, stderr } = check({
      REDIS_SERVER_BIN: '/nonexistent/tessera/redis-server',
      PG_BIN: '/nonexistent/tessera/pg',
    });
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'redis-server: nothing executable at /nonexistent/tessera/redis-server',
    );
    expect(stderr).toContain('pg_ctl: nothing executable at /nonexistent/tessera/pg/pg_ctl');
    expect(stderr).toMatch(/apt-get install -y redis-server postgresql-15|your package manager/);
    expect(stderr).toContain('then unset REDIS_SERVER_BIN and PG_BIN');
    expect(stderr).toMatch(/REDIS_SERVER_BIN=\S+ PG_BIN=\S+ npm test/);
  });
});
