import {
  Module,
  type DynamicModule,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
  type Type,
} from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Store as ExpressSessionStore } from 'express-session';
import { COMMON, type BenchConfig } from './config';
import { BareController, BenchController } from './controller';
import { dataSource, redisClient } from './backends';

/** A contender: the root module, and what to do to the app before it listens. */
export interface Contender {
  module: Type;
  setup?: (app: INestApplication) => Promise<void>;
}

/** Builds the contender `config` names. Each library is loaded only by the process that runs it. */
export async function buildContender(config: BenchConfig): Promise<Contender> {
  switch (config.library) {
    case 'bare':
      return { module: bareModule() };
    case 'tessera':
      return tessera(config);
    case 'express-session':
      return expressSession(config);
    case 'fastify-session':
      return fastifySession(config);
    case 'noop-middleware':
      return { module: withMiddleware((_req, _res, next) => next()) };
    case 'als-middleware': {
      const context = new AsyncLocalStorage<unknown>();
      return { module: withMiddleware((req, _res, next) => context.run(req, next)) };
    }
    case 'accessor-middleware':
      // What Tessera's lazy `req.session` does to a request with no cookie: three accessor
      // properties defined on the IncomingMessage (which turns it into a dictionary-mode object).
      return {
        module: withMiddleware((req, _res, next) => {
          const lazy = { get: () => undefined, set: () => undefined, configurable: true };
          Object.defineProperty(req, 'session', { ...lazy, enumerable: true });
          Object.defineProperty(req, 'sessionID', { get: lazy.get, configurable: true });
          Object.defineProperty(req, Symbol.for('bench:lazy'), {
            get: lazy.get,
            configurable: true,
          });
          next();
        }),
      };
  }
}

type Middleware = (req: unknown, res: unknown, next: () => void) => void;

/** The bench app with one middleware on every route, mounted as Tessera mounts its own. */
function withMiddleware(middleware: Middleware): Type {
  @Module({ controllers: [BenchController] })
  class DiagnosticModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(middleware).forRoutes('{*path}');
    }
  }
  return DiagnosticModule;
}

/** The ceiling: the same routes, no session layer, handlers that never look for a session. */
function bareModule(): Type {
  @Module({ controllers: [BareController] })
  class BareModule {}
  return BareModule;
}

/** The same app for everyone: the bench controller, plus the session module if any. */
function withSession(imports: DynamicModule[]): Type {
  @Module({ imports, controllers: [BenchController] })
  class BenchModule {}
  return BenchModule;
}

async function tessera(config: BenchConfig): Promise<Contender> {
  const { SessionModule, MemoryStore } = await import('../../lib');
  let store;
  if (config.store === 'memory') {
    store = new MemoryStore();
  } else if (config.store === 'redis') {
    const { RedisStore } = await import('../../lib/redis');
    store = new RedisStore({ client: await redisClient(config) });
  } else {
    const { TypeOrmStore } = await import('../../lib/typeorm');
    store = new TypeOrmStore({ dataSource: await dataSource(config) });
  }
  const session = SessionModule.forRoot({
    secret: COMMON.secret,
    name: COMMON.cookieName,
    store,
    cookie: COMMON.cookie,
    saveUninitialized: COMMON.saveUninitialized,
    resave: COMMON.resave,
    rolling: COMMON.rolling,
  });
  return { module: withSession([session]) };
}

/**
 * The stores the two competitors share: connect-redis for Redis (it works with both
 * express-session and @fastify/session, whose store contract is the same callback-style
 * get/set/destroy), Tessera's TypeOrmStore for SQL (it is an express-session store too), and
 * each library's own default MemoryStore otherwise (`undefined`).
 */
async function competitorStore(config: BenchConfig): Promise<ExpressSessionStore | undefined> {
  if (config.store === 'memory') return undefined;
  if (config.store === 'redis') {
    const { RedisStore } = await import('connect-redis');
    return new RedisStore({ client: await redisClient(config) });
  }
  const { TypeOrmStore } = await import('../../lib/typeorm');
  return new TypeOrmStore({ dataSource: await dataSource(config) }) as never;
}

/** express-session mounted through nestjs-session, as a Nest app would use it. */
async function expressSession(config: BenchConfig): Promise<Contender> {
  const { SessionModule } = await import('nestjs-session');
  const session = SessionModule.forRoot({
    session: {
      secret: COMMON.secret,
      name: COMMON.cookieName,
      store: await competitorStore(config),
      cookie: COMMON.cookie,
      saveUninitialized: COMMON.saveUninitialized,
      resave: COMMON.resave,
      rolling: COMMON.rolling,
    },
  });
  return { module: withSession([session]) };
}

/**
 * @fastify/session (with @fastify/cookie, which it needs) registered on the Fastify instance.
 * It has no `resave` option: it never rewrites an unchanged session unless `rolling`.
 */
async function fastifySession(config: BenchConfig): Promise<Contender> {
  const [{ default: fastifyCookie }, { default: fastifySessionPlugin }] = await Promise.all([
    import('@fastify/cookie'),
    import('@fastify/session'),
  ]);
  const store = await competitorStore(config);
  return {
    module: withSession([]),
    setup: async (app) => {
      const fastify = app as unknown as {
        register(plugin: unknown, options?: unknown): Promise<unknown>;
      };
      await fastify.register(fastifyCookie);
      await fastify.register(fastifySessionPlugin, {
        secret: COMMON.secret,
        cookieName: COMMON.cookieName,
        cookie: COMMON.cookie,
        saveUninitialized: COMMON.saveUninitialized,
        rolling: COMMON.rolling,
        store,
      });
    },
  };
}
