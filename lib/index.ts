/**
 * @tessera/session: server-side sessions for NestJS. This entry loads no store client and no
 * HTTP platform: `RedisStore` is in `@tessera/session/redis`, `TypeOrmStore` in
 * `@tessera/session/typeorm`.
 */
export { SessionCookie } from './core/cookie';
export { SessionObject, type SessionData } from './core/session';
export { applyChange, expiresAt, isExpired } from './core/stored-session';
export * from './decorators';
export * from './exceptions';
export * from './interfaces';
export { SESSION_OPTIONS, SESSION_STORE } from './session.constants';
export { SessionModule } from './session.module';
export type {
  SessionModuleAsyncOptions,
  SessionModuleForRootOptions,
} from './session.module-definition';
export { SessionService, type DestroyByUserOptions } from './session.service';
export type { UserSession } from './core/user-sessions';
export type { UserIdOf } from './core/options';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.store';
