import type { SessionOptions } from '../core/options';

/**
 * What `SessionModule.forRoot()` takes, and what a `forRootAsync()` factory returns.
 * @publicApi
 * @see SessionOptions for each option and its default.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionModuleOptions extends SessionOptions {}

/**
 * A class that builds the options, for `forRootAsync({ useClass })`.
 * @publicApi
 */
export interface SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions | Promise<SessionModuleOptions>;
}
