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

  /**
   * Runs `source` as a CommonJS script in the app folder (an ES module with `extension: 'mjs'`);
   * peers resolve from the repo's node_modules.
   */
  const run = (source: string, extension = 'js'): unknown => {
    const file = join(app, `script-${Math.random().toString(36).slice(2)}.${extension}`);
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

  describe("the express entry, express-session's shape", () => {
    it('require() gives the middleware itself, with Store, MemoryStore, Cookie and Session on it', () => {
      const result = run(`
        const session = require('@tessera/session/express');
        const middleware = session({ secret: 's', resave: false, saveUninitialized: false });
        console.log(JSON.stringify({
          type: typeof session,
          names: Object.keys(session).sort(),
          same: session.session === session && session.default === session,
          middleware: [typeof middleware, middleware.length],
          classes: [session.Store, session.MemoryStore, session.Cookie, session.Session].map((c) => typeof c),
          store: new session.MemoryStore({ sweepInterval: 0 }) instanceof session.Store,
        }));
      `);
      expect(result).toEqual({
        type: 'function',
        names: ['Cookie', 'MemoryStore', 'Session', 'Store', 'default', 'session'],
        same: true,
        middleware: ['function', 3],
        classes: ['function', 'function', 'function', 'function'],
        store: true,
      });
    });

    it('loads no Nest, no express-session, no package at all: in a child process, nothing but it', () => {
      const result = run(`
        const session = require('@tessera/session/express');
        session({ secret: 's', resave: false, saveUninitialized: false });
        new session.MemoryStore({ sweepInterval: 0 }).close();
        const files = Object.keys(require.cache);
        console.log(JSON.stringify({
          nest: files.filter((f) => f.includes('/@nestjs/')),
          expressSession: files.filter((f) => f.includes('/express-session/')),
          packages: files.filter((f) => f.includes('/node_modules/')),
          ours: files.some((f) => f.includes('/dist/express/index.js')),
        }));
      `) as Record<string, unknown>;
      expect(result).toEqual({ nest: [], expressSession: [], packages: [], ours: true });
    });

    it('an ES module imports it as the default, by name, and as a namespace', () => {
      const result = run(
        `
        import session, { session as named, Store, MemoryStore, Cookie, Session } from '@tessera/session/express';
        import * as namespace from '@tessera/session/express';
        const middleware = session({ secret: 's', resave: false, saveUninitialized: false });
        console.log(JSON.stringify({
          middleware: typeof middleware,
          named: named === session,
          classes: [Store, MemoryStore, Cookie, Session].map((c) => typeof c),
          store: new MemoryStore({ sweepInterval: 0 }) instanceof Store,
          namespace: namespace.default === session && namespace.Store === Store,
        }));
      `,
        'mjs',
      );
      expect(result).toEqual({
        middleware: 'function',
        named: true,
        classes: ['function', 'function', 'function', 'function'],
        store: true,
        namespace: true,
      });
    });

    /** Compiles `source` as a TypeScript app's main.ts with these options, and runs the output. */
    const compileAndRun = (source: string, compilerOptions: Record<string, unknown>) => {
      const folder = mkdtempSync(join(app, 'ts-'));
      writeFileSync(join(folder, 'main.ts'), source);
      writeFileSync(
        join(folder, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            skipLibCheck: true,
            target: 'ES2022',
            types: ['node'],
            module: 'commonjs',
            moduleResolution: 'node10',
            outDir: 'out',
            ...compilerOptions,
          },
          files: ['main.ts'],
        }),
      );
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], {
        cwd: folder,
        encoding: 'utf8',
      });
      expect(`${tsc.stdout}${tsc.stderr}`.trim()).toBe('');
      const out = execFileSync(process.execPath, [join(folder, 'out', 'main.js')], {
        cwd: folder,
        encoding: 'utf8',
      });
      return JSON.parse(out.trim()) as unknown;
    };
    const body = `
      class CallbackStore extends Store {
        get(_sid: string, callback: (err: unknown, session?: null) => void) { callback(null, null); }
        set(_sid: string, _session: unknown, callback?: (err?: unknown) => void) { callback?.(); }
        destroy(_sid: string, callback?: (err?: unknown) => void) { callback?.(); }
      }
      const options: SessionOptions = { secret: 's', resave: false, saveUninitialized: false, store: new CallbackStore() };
      const middleware: SessionMiddleware = create(options);
      const cookie: CookieType = new CookieClass({ maxAge: 1000 });
      console.log(JSON.stringify({ middleware: typeof middleware, cookie: cookie.originalMaxAge }));
    `;

    it.each([
      [
        "import * as session (Nest's documentation), no esModuleInterop",
        "import * as session from '@tessera/session/express';",
        { esModuleInterop: false },
      ],
      [
        'import session, with esModuleInterop',
        "import session from '@tessera/session/express';",
        { esModuleInterop: true },
      ],
      [
        "import session, with allowSyntheticDefaultImports only (a Nest app's tsconfig)",
        "import session from '@tessera/session/express';",
        { esModuleInterop: false, allowSyntheticDefaultImports: true },
      ],
    ])(
      'a TypeScript app compiles and runs %s',
      (_how, line, options) => {
        const source = `${line}
        const { Store, Cookie: CookieClass } = session;
        const create = session;
        type SessionOptions = session.SessionOptions;
        type SessionMiddleware = session.SessionMiddleware;
        type CookieType = session.Cookie;
        ${body}`;
        expect(compileAndRun(source, options)).toEqual({ middleware: 'function', cookie: 1000 });
      },
      60_000,
    );

    it('a TypeScript app compiles and runs import { session, Store, Cookie, … }', () => {
      const source = `
        import { session as create, Store, Cookie as CookieClass, MemoryStore, Session, type SessionOptions, type SessionMiddleware, type Cookie as CookieType } from '@tessera/session/express';
        void MemoryStore; void Session;
        ${body}`;
      expect(compileAndRun(source, { esModuleInterop: true })).toEqual({
        middleware: 'function',
        cookie: 1000,
      });
    }, 60_000);
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
