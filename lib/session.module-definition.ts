import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from './interfaces/session-module-options.interface';

/**
 * `forRoot` / `forRootAsync` (with `useFactory`, `useClass`, `useExisting`, `imports`, `inject`)
 * come from Nest's builder. The module is global unless `isGlobal: false` says otherwise.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RAW_SESSION_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>({ moduleName: 'Session' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSessionOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** What `forRoot()` takes: the options, plus `isGlobal` (default `true`). */
export type SessionModuleForRootOptions = typeof OPTIONS_TYPE;
/** What `forRootAsync()` takes. */
export type SessionModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
