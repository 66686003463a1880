import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '..');

/**
 * The package as users get it: `npm run build`'s output under its package.json `exports`,
 * installed as `@tessera/session` in an app folder, loaded by plain Node (no Jest, no swc).
 */
describe('the built package', () => {
  let work: string;
  let app: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tessera-package-'));
    const pkg = join(work, 'pkg');
    execFileSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(pkg, 'dist'),
      ],
      {
        cwd: repo,
        stdio: 'pipe',
      },
    );
    cpSync(join(repo, 'package.json'), join(pkg, 'package.json'));
    app = join(work, 'app');
    mkdirSync(join(app, 'node_modules', '@tessera'), { recursive: true });
    symlinkSync(pkg, join(app, 'node_modules', '@tessera', 'session'), 'dir');
    // The peers, for the compiler: the package's declarations import them from its own folder.
    symlinkSync(join(repo, 'node_modules'), join(work, 'node_modules'), 'dir');
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs `source` as a CommonJS script in the app folder; peers resolve from the repo's node_modules. */
  const run = (source: string): unknown => {
    const file = join(app, `script-${Math.random().toString(36).slice(2)}.js`);
    writeFileSync(file, source);
    const out = execFileSync(process.execPath, [file], {
      cwd: app,
      env: { ...process.env, NODE_PATH: join(repo, 'node_modules') },
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').pop()!);
  };

  const loadedPackages = `
    const loaded = (name) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + name + '/'));
    const report = (extra) => console.log(JSON.stringify({
      ...extra,
      loaded: ['ioredis', 'redis', '@redis/client', 'typeorm', 'express-session', 'fastify', 'express', '@nestjs/platform-express', '@nestjs/platform-fastify', 'graphql', '@nestjs/websockets']
        .filter(loaded),
    }));
  `;

  it('require() of the root entry exports the public surface and loads no store client, no platform', () => {
    const result = run(`
      require('reflect-metadata');
      ${loadedPackages}
      const api = require('@tessera/session');
      report({ exports: Object.keys(api).sort() });
    `) as { exports: string[]; loaded: string[] };
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'SessionModule',
        'Session',
        'SessionService',
        'MemoryStore',
        'SESSION_STORE',
        'SESSION_OPTIONS',
        'InjectSessionStore',
        'SessionStoreError',
        'SessionSerializationError',
        'SessionContextError',
      ]),
    );
    expect(result.loaded).toEqual([]);
  });

  it.each([
    ['redis', ['RedisStore'], []],
    ['typeorm', ['CreateSessionsTable', 'SessionEntity', 'TypeOrmStore'], ['typeorm']],
    ['websocket', ['SessionGateway', 'WsSessionGuard', 'getSocketSession'], ['@nestjs/websockets']],
  ])(
    'the %s entry exports its store or helpers, loading only its own peer',
    (entry, names, peers) => {
      const result = run(`
      require('reflect-metadata');
      ${loadedPackages}
      const api = require('@tessera/session/${entry}');
      report({ exports: Object.keys(api) });
    `) as { exports: string[]; loaded: string[] };
      expect(result.exports).toEqual(expect.arrayContaining(names));
      expect(result.loaded).toEqual(peers);
    },
  );

  it('import() of the root entry works from ES modules too', () => {
    const result = run(`
      require('reflect-metadata');
      import('@tessera/session').then((api) => console.log(JSON.stringify({ module: typeof api.SessionModule, store: typeof api.MemoryStore })));
    `);
    expect(result).toEqual({ module: 'function', store: 'function' });
  });

  it('ships declarations with their documentation', () => {
    const dts = readFileSync(join(work, 'pkg', 'dist', 'session.module.d.ts'), 'utf8');
    expect(dts).toContain('@publicApi');
  });

  it.each([
    [
      'express',
      "new (require('@nestjs/platform-express').ExpressAdapter)()",
      ['express', '@nestjs/platform-express'],
    ],
    [
      'fastify',
      "new (require('@nestjs/platform-fastify').FastifyAdapter)()",
      ['fastify', '@nestjs/platform-fastify'],
    ],
  ])('an app on %s loads that platform only', (_name, adapter, expected) => {
    const result = run(`
      require('reflect-metadata');
      ${loadedPackages}
      const { Module } = require('@nestjs/common');
      const { NestFactory } = require('@nestjs/core');
      const { SessionModule } = require('@tessera/session');
      class AppModule {}
      Module({ imports: [SessionModule.forRoot({ secret: 's' })] })(AppModule);
      (async () => {
        const app = await NestFactory.create(AppModule, ${adapter}, { logger: false });
        await app.init();
        await app.close();
        report({});
      })();
    `) as { loaded: string[] };
    expect(result.loaded.sort()).toEqual([...expected].sort());
  });

  describe('compiles in a TypeScript app, the root entry and every subpath', () => {
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    // Every subpath of `exports`, so that an entry added there is checked here too.
    const subpaths = Object.keys(manifest.exports)
      .filter((entry) => entry !== '.' && entry !== './package.json')
      .map((entry) => `@tessera/session/${entry.slice(2)}`);
    const consumer = [
      "import { MemoryStore, SessionModule, type SessionStore } from '@tessera/session';",
      "import { RedisStore } from '@tessera/session/redis';",
      "import { SessionEntity, TypeOrmStore } from '@tessera/session/typeorm';",
      "import { SessionGateway } from '@tessera/session/websocket';",
      ...subpaths.map((path, i) => `import * as entry${i} from '${path}';`),
      'const store: SessionStore = new MemoryStore();',
      'export const used = [',
      "  SessionModule.forRoot({ secret: 's', store }),",
      '  RedisStore, TypeOrmStore, SessionEntity, SessionGateway,',
      ...subpaths.map((_path, i) => `  entry${i},`),
      '];',
    ].join('\n');

    /** Runs the repo's tsc on the consumer in `folder`; its exit status and what it printed. */
    const compile = (folder: string, module: string, moduleResolution: string) => {
      const name = `tsconfig.${moduleResolution}.json`;
      writeFileSync(join(folder, 'consumer.ts'), consumer);
      // As `nest new` sets it up (strict, skipLibCheck), with the module settings under test.
      const compilerOptions = {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: 'ES2022',
        types: ['node'],
        module,
        moduleResolution,
      };
      writeFileSync(
        join(folder, name),
        JSON.stringify({ compilerOptions, files: ['consumer.ts'] }),
      );
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', name], {
        cwd: folder,
        encoding: 'utf8',
      });
      return { status: tsc.status, output: `${tsc.stdout}${tsc.stderr}`.trim() };
    };

    it.each([
      // A classic Nest app: `exports` is not read; `typesVersions` finds the subpaths' types.
      ['commonjs', 'node10'],
      ['node16', 'node16'],
      ['esnext', 'bundler'],
    ])(
      'with module %s, moduleResolution %s',
      (module, moduleResolution) => {
        expect(compile(app, module, moduleResolution)).toEqual({ status: 0, output: '' });
      },
      60_000,
    );

    it('under node10 fails without typesVersions: the check above is not vacuous', () => {
      const untyped = join(work, 'untyped');
      const bare = join(work, 'untyped-app');
      mkdirSync(untyped);
      mkdirSync(join(bare, 'node_modules', '@tessera'), { recursive: true });
      symlinkSync(join(work, 'pkg', 'dist'), join(untyped, 'dist'), 'dir');
      const { typesVersions: _dropped, ...rest } = JSON.parse(
        readFileSync(join(repo, 'package.json'), 'utf8'),
      ) as Record<string, unknown>;
      writeFileSync(join(untyped, 'package.json'), JSON.stringify(rest));
      symlinkSync(untyped, join(bare, 'node_modules', '@tessera', 'session'), 'dir');
      const result = compile(bare, 'commonjs', 'node10');
      expect(result.status).not.toBe(0);
      for (const path of subpaths)
        expect(result.output).toContain(`error TS2307: Cannot find module '${path}'`);
    }, 60_000);
  });
});
