import type { ConfigService } from '@nestjs/config';
import type { SessionModuleOptions, SessionStore } from '../../lib';
import { MemoryStore } from '../../lib';

/** The stores the sample can run on, picked by `SESSION_STORE`. */
export const STORE_KINDS = ['memory'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Builds the store `SESSION_STORE` names. */
export async function createStore(kind: string): Promise<SessionStore> {
  switch (kind) {
    case 'memory':
      return new MemoryStore();
    default:
      throw new Error(`SESSION_STORE must be one of ${STORE_KINDS.join(', ')}, got "${kind}"`);
  }
}

/** The session options from the environment: what `forRootAsync` gets. */
export async function sessionOptions(config: ConfigService): Promise<SessionModuleOptions> {
  const secret =
    config.get<string>('SESSION_SECRET') ?? 'keyboard cat: set SESSION_SECRET in production';
  return {
    // Comma-separated: the first signs, all verify (rotation).
    secret: secret.split(','),
    store: await createStore(config.get<string>('SESSION_STORE') ?? 'memory'),
    cookie: { maxAge: Number(config.get<string>('SESSION_MAX_AGE') ?? 60_000) },
  };
}
