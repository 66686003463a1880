import { Inject, Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { SessionEngine } from './core/session-engine';
import { bridgeFastify, type FastifyInstanceLike } from './http/fastify-bridge';
import { createSessionHandler } from './http/session.handler';
import type { SessionModuleOptions } from './interfaces/session-module-options.interface';
import { injectsSessionService } from './session.context';
import { SESSION_ENGINE, SESSION_OPTIONS, SESSION_STORE } from './session.constants';
import { ConfigurableModuleClass, RAW_SESSION_OPTIONS } from './session.module-definition';
import { sessionProviders } from './session.providers';
import { SessionService } from './session.service';

/**
 * Server-side sessions for the whole app: the session middleware on every route (the `ignore`
 * list aside), the store under `SESSION_STORE`, the resolved options under `SESSION_OPTIONS`,
 * and `SessionService`. Global: feature modules need not import it.
 *
 * @publicApi
 * @example
 * ```ts
 * @Module({ imports: [SessionModule.forRoot({ secret: process.env.SESSION_SECRET! })] })
 * export class AppModule {}
 * ```
 * @example
 * ```ts
 * SessionModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ secret: config.getOrThrow('SESSION_SECRET') }),
 * })
 * ```
 */
@Module({
  providers: [...sessionProviders, SessionService],
  exports: [SESSION_OPTIONS, SESSION_STORE, SESSION_ENGINE, SessionService],
})
export class SessionModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly modules: ModulesContainer,
    @Inject(SESSION_ENGINE) private readonly engine: SessionEngine,
    @Inject(RAW_SESSION_OPTIONS) private readonly options: SessionModuleOptions,
  ) {
    super();
  }

  /**
   * Mounts the session middleware straight on the platform, for every path (the `ignore` list
   * is the handler's own business). Nest calls this while it registers the modules, before it
   * mounts the middleware of the app's modules, so those run after it and find `req.session`.
   * Mounting it through Nest's `MiddlewareConsumer` would add a route match and a wrapper to
   * every request for nothing: the handler takes every path.
   */
  configure(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    // Entered only when something can ask SessionService for the current session (see
    // injectsSessionService): on Node 20 a context makes every promise of the process slower.
    const requestContext = this.options.requestContext ?? injectsSessionService(this.modules);
    const handler = createSessionHandler(this.engine, requestContext);
    if (adapter.getType() === 'fastify') {
      const instance = adapter.getInstance<FastifyInstanceLike>();
      bridgeFastify(instance, requestContext);
      instance.use(handler);
    } else {
      adapter.use(handler);
    }
  }
}
