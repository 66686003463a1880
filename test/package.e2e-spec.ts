import { execFileSync } from 'node:child_process';
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
});
