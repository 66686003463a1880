import type { DataSource, EntityTarget, Repository } from 'typeorm';
import type { StoredSession } from '../core/stored-session';
import { storeTtl } from '../core/store-support';
import { SessionEntity } from './session.entity';

interface CommonOptions<E extends SessionEntity> {
  /**
   * How long (ms) a session whose cookie has no expiry (a browser-session cookie) is kept.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * How often (ms) expired rows are deleted in the background; `0` turns the timer off
   * (then call `prune()` yourself, from a cron job say).
   * @default 60_000
   */
  cleanupInterval?: number;
  /**
   * The most rows one cleanup statement deletes; a cleanup repeats it until fewer remain, so no
   * single statement holds its locks for long.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Values for the extra columns of an entity that extends `SessionEntity`, computed from the
   * session each time its data is written (`set`, `patch`), e.g. to index sessions by tenant.
   * (The user has a column of its own, `SessionEntity.user`, which the store fills itself.)
   * @default none
   * @example (session) => ({ tenantId: (session.tenantId as string | undefined) ?? null })
   */
  columns?: (session: StoredSession) => Partial<Omit<E, keyof SessionEntity>>;
}

/**
 * Options of `TypeOrmStore`: the app's own `DataSource` (with, optionally, the entity to use) or
 * a `Repository` of the entity; never both.
 *
 * @publicApi
 */
export type TypeOrmStoreOptions<E extends SessionEntity = SessionEntity> = CommonOptions<E> &
  (
    | {
        /**
         * The app's DataSource, with the entity among its `entities`. The store never initializes
         * or destroys it.
         */
        dataSource: DataSource;
        /**
         * The entity sessions are stored as: `SessionEntity` or a subclass of it.
         * @default SessionEntity
         */
        entity?: EntityTarget<E>;
        repository?: never;
      }
    | {
        /** A repository of `SessionEntity` or of a subclass (`@InjectRepository(SessionEntity)`). */
        repository: Repository<E>;
        dataSource?: never;
        entity?: never;
      }
  );

/** Where the rows are: a DataSource and an entity, or a repository. */
export type SessionSource =
  | { readonly dataSource: DataSource; readonly entity: EntityTarget<SessionEntity> }
  | Repository<SessionEntity>;

/** The options with their defaults applied, checked. */
export interface ResolvedOptions {
  readonly source: SessionSource;
  readonly ttl: number;
  readonly cleanupInterval: number;
  readonly batchSize: number;
  readonly columns?: (session: StoredSession) => object;
}

/** Applies the defaults and throws a `TypeError` naming the first option it cannot honour. */
export function resolveOptions(options: TypeOrmStoreOptions<SessionEntity>): ResolvedOptions {
  const { dataSource, repository, entity, columns } = options ?? {};
  let source: SessionSource;
  if (dataSource && repository) {
    throw new TypeError('TypeOrmStore takes a "dataSource" or a "repository" option, not both');
  } else if (repository) {
    if (entity !== undefined) {
      throw new TypeError(
        'TypeOrmStore option "entity" goes with "dataSource" (a repository has its own)',
      );
    }
    if (typeof repository.createQueryBuilder !== 'function') {
      throw new TypeError('TypeOrmStore option "repository" must be a TypeORM Repository');
    }
    source = repository;
  } else if (dataSource) {
    if (typeof dataSource.getRepository !== 'function') {
      throw new TypeError('TypeOrmStore option "dataSource" must be a TypeORM DataSource');
    }
    source = { dataSource, entity: entity ?? SessionEntity };
  } else {
    throw new TypeError(
      'TypeOrmStore needs a "dataSource" option (the app\'s TypeORM DataSource) or a "repository"',
    );
  }
  const ttl = storeTtl('TypeOrmStore', options.ttl);
  const cleanupInterval = options.cleanupInterval ?? 60_000;
  const batchSize = options.batchSize ?? 1000;
  if (!(
    typeof cleanupInterval === 'number' &&
    cleanupInterval >= 0 &&
    Number.isFinite(cleanupInterval)
  )) {
    throw new TypeError(
      `TypeOrmStore option "cleanupInterval" must be a number of ms, or 0 for no timer, got ${String(cleanupInterval)}`,
    );
  }
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new TypeError(
      `TypeOrmStore option "batchSize" must be a positive integer, got ${String(batchSize)}`,
    );
  }
  if (columns !== undefined && typeof columns !== 'function') {
    throw new TypeError('TypeOrmStore option "columns" must be a function of the session');
  }
  return { source, ttl, cleanupInterval, batchSize, columns };
}
