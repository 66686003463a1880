import { Logger, type Provider } from '@nestjs/common';
import { resolveSessionOptions, type ResolvedSessionOptions } from './core/options';
import { SessionEngine } from './core/session-engine';
import { followSession } from './http/attach';
import type { SessionModuleOptions } from './interfaces/session-module-options.interface';
import { SESSION_ENGINE, SESSION_OPTIONS, SESSION_STORE } from './session.constants';
import { RAW_SESSION_OPTIONS } from './session.module-definition';
import { MemoryStore } from './stores/memory.store';

const logger = new Logger('SessionModule');
let warnedMemoryStoreInProduction = false;

/** Checks the options once, when the app is created: a bad option fails the start, named. */
function resolveOptions(options: SessionModuleOptions): ResolvedSessionOptions {
  const resolved = resolveSessionOptions({ ...options, store: options.store ?? new MemoryStore() });
  if (
    resolved.store instanceof MemoryStore &&
    process.env.NODE_ENV === 'production' &&
    !warnedMemoryStoreInProduction
  ) {
    warnedMemoryStoreInProduction = true;
    logger.warn(
      'MemoryStore keeps sessions in this process only: they are lost on restart and not shared ' +
        'between instances. Use RedisStore or TypeOrmStore in production.',
    );
  }
  return resolved;
}

export const sessionProviders: Provider[] = [
  { provide: SESSION_OPTIONS, useFactory: resolveOptions, inject: [RAW_SESSION_OPTIONS] },
  {
    provide: SESSION_STORE,
    useFactory: (options: ResolvedSessionOptions) => options.store,
    inject: [SESSION_OPTIONS],
  },
  {
    provide: SESSION_ENGINE,
    useFactory: (options: ResolvedSessionOptions) =>
      new SessionEngine(options, new Logger('Session'), followSession),
    inject: [SESSION_OPTIONS],
  },
];
