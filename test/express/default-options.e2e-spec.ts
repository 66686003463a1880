import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Outcome {
  heard: { name: string; message: string; code?: string }[];
  cookie: boolean;
  stored: number;
  writes: number;
}

/** Runs default-options.child.ts for `library` in a process of its own: what it printed. */
async function withoutResaveOptions(library: 'express-session' | 'tessera'): Promise<Outcome> {
  const { stdout } = await run(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'default-options.child.ts'), library],
    { cwd: join(__dirname, '..', '..'), timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
}

/**
 * `resave` and `saveUninitialized` not given: both default to true, with express-session's
 * deprecation warnings. Each library runs in a process of its own, where Node's warnings are
 * heard (Jest's sandbox never hears them).
 */
describe('resave and saveUninitialized left out', () => {
  let legacy: Outcome;
  let tessera: Outcome;
  beforeAll(async () => {
    [legacy, tessera] = await Promise.all([
      withoutResaveOptions('express-session'),
      withoutResaveOptions('tessera'),
    ]);
  }, 90_000);

  it("warn with express-session's own words", () => {
    const expected = [
      'undefined resave option; provide resave option',
      'undefined saveUninitialized option; provide saveUninitialized option',
    ];
    // depd says each once per place in the app's code that made a middleware (two here).
    expect([...new Set(legacy.heard.map((warning) => warning.message))]).toEqual(expected);
    expect(tessera.heard.map((warning) => warning.message)).toEqual(expected);
  });

  it("as Node's own DeprecationWarnings, each said once in the process", () => {
    expect(tessera.heard).toEqual([
      expect.objectContaining({ name: 'DeprecationWarning', code: 'TESSERA_SESSION_RESAVE' }),
      expect.objectContaining({
        name: 'DeprecationWarning',
        code: 'TESSERA_SESSION_SAVE_UNINITIALIZED',
      }),
    ]);
  });

  it('default to true, as in express-session: a session nothing read is saved and sent; an unchanged one is written back', () => {
    const behaviour = ({ cookie, stored, writes }: Outcome) => ({ cookie, stored, writes });
    expect(behaviour(legacy)).toEqual({ cookie: true, stored: 1, writes: 2 });
    expect(behaviour(tessera)).toEqual(behaviour(legacy));
  });
});
