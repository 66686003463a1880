import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { bridgeFastify, type FastifyInstanceLike } from './http/fastify-bridge';
import { ALL_ROUTES, SESSION_ENGINE, SESSION_OPTIONS, SESSION_STORE } from './session.constants';
import { SessionMiddleware } from './session.middleware';
import { ConfigurableModuleClass } from './session.module-definition';
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
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'fastify') bridgeFastify(adapter.getInstance<FastifyInstanceLike>());
    // As a global module, Nest mounts this before the middleware of the app's own modules,
    // so passport.session() and the like find req.session.
    consumer.apply(SessionMiddleware).forRoutes(ALL_ROUTES);
  }
}
