import { LessThanOrEqual, MoreThan, Not, QueryFailedError } from 'typeorm';
import type { DataSource, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { dialectOf, mergeExpression, type Dialect } from './merge-sql';
import type { SessionSource } from './typeorm-store.options';

/**
 * What a write puts in a row: the session's JSON, its expiry, its user (the record's
 * `cookie.user`, `null` for none), an extended entity's columns.
 */
export interface RowValues {
  readonly data: string;
  readonly expiresAt: number;
  readonly user: string | null;
  readonly extra: ObjectLiteral;
}

/**
 * What a merge writes besides the data: no `expiresAt` leaves the row's expiry as it is, no
 * `user` (`undefined`) the row's user.
 */
export interface MergeValues {
  readonly expiresAt?: number;
  readonly user?: string | null;
  readonly extra: ObjectLiteral;
}

/** A row of a user's, as `selectByUser` reads it. */
export interface UserRow {
  readonly id: string;
  readonly data: string;
}

/** A row as read back: `expiresAt` is what the database holds, unexpired or not. */
export interface Row {
  readonly data: string;
  readonly version: number;
  readonly expiresAt: number;
}

/**
 * One request's change for the database to merge into a row's JSON itself: the keys to write,
 * each with its value as JSON text, and the keys to delete (deleted first, so a key in both is
 * written, as `applyChange` does).
 */
export interface RowChange {
  readonly set: ReadonlyArray<readonly [key: string, json: string]>;
  readonly unset: readonly string[];
}

/** Escaped names of the columns that appear in SQL the store writes itself. */
interface ColumnNames {
  readonly table: string;
  readonly id: string;
  readonly data: string;
  readonly expiresAt: string;
  readonly user: string;
  readonly version: string;
  readonly updatedAt?: string;
}

/**
 * The `sessions` table (or an extended entity's), one method per statement: every method issues
 * exactly one SQL statement, through TypeORM's query builder with bound parameters, outside any
 * explicit transaction. What the statements mean for sessions is `TypeOrmStore`'s business.
 */
export class SessionTable {
  private resolved?: {
    repository: Repository<ObjectLiteral>;
    target: EntityTarget<ObjectLiteral>;
    names: ColumnNames;
    dialect: Dialect;
  };

  constructor(private readonly source: SessionSource) {}

  /** The row of `sid`; with `now`, only if it expires after `now`. */
  async select(sid: string, now?: number): Promise<Row | undefined> {
    const query = this.builder()
      .select('s.data', 'data')
      .addSelect('s.version', 'version')
      .addSelect('s.expiresAt', 'expiresAt')
      .from(this.target(), 's')
      .where('s.id = :sid', { sid });
    if (now !== undefined) query.andWhere('s.expiresAt > :now', { now });
    const row = await query.getRawOne<{
      data: string;
      version: number | string;
      expiresAt: number | string;
    }>();
    // PostgreSQL returns bigint as a string; the entity's transformer does not run on raw rows.
    return (
      row && { data: row.data, version: Number(row.version), expiresAt: Number(row.expiresAt) }
    );
  }

  /**
   * Writes the data if the row is still at `version` (TypeORM adds `version = version + 1` and
   * the update time itself); resolves to whether it was.
   */
  async update(sid: string, values: RowValues, version: number): Promise<boolean> {
    const result = await this.builder()
      .update(this.target())
      .set({ ...values.extra, data: values.data, expiresAt: values.expiresAt, user: values.user })
      .where({ id: sid, version })
      .updateEntity(false)
      .execute();
    return result.affected === 1;
  }

  /**
   * Merges `change` into the JSON of the row, sets its expiry (if given) and `extra` columns,
   * and bumps its version, in one UPDATE that no concurrent write can make fail, if the row
   * expires after `now`; resolves to whether there was such a row. Resolves `undefined`, having
   * written nothing, for a change this database cannot merge by itself (the caller then takes
   * the versioned path): on PostgreSQL a NUL or a lone surrogate (jsonb refuses `\u0000` and
   * `\ud800`, in the change or in the stored record), on SQLite a key that is not safe as a
   * JSON path label.
   */
  async merge(
    sid: string,
    change: RowChange,
    values: MergeValues,
    now: number,
  ): Promise<boolean | undefined> {
    const { names: columns, dialect } = this.resolve();
    const merged = mergeExpression(dialect, columns.data, change);
    if (!merged) return;
    const { expression, parameters } = merged;
    const query = this.builder()
      .update(this.target())
      .set({
        ...values.extra,
        data: () => expression,
        ...(values.expiresAt === undefined ? {} : { expiresAt: values.expiresAt }),
        ...(values.user === undefined ? {} : { user: values.user }),
      })
      .where({ id: sid, expiresAt: MoreThan(now) })
      .setParameters(parameters)
      .updateEntity(false);
    try {
      return (await query.execute()).affected === 1;
    } catch (err) {
      // The stored record holds what jsonb cannot take (22P05 for a NUL, 22P02 for a lone
      // surrogate); the statement failed whole, so nothing was written.
      const code = (err as { driverError?: { code?: unknown } }).driverError?.code;
      const refused = code === '22P05' || code === '22P02';
      if (dialect === 'postgres' && err instanceof QueryFailedError && refused) return;
      throw err;
    }
  }

  /** Inserts or replaces the row in one statement; a replaced row gets a new version. */
  async upsert(sid: string, values: RowValues): Promise<void> {
    const { names: columns } = this.resolve();
    const [insert, parameters] = this.insertQuery(sid, values).getQueryAndParameters();
    // orUpdate() can only copy the inserted values, and a replaced row also needs its version
    // bumped so that a concurrent patch re-reads: hence this clause, made of escaped names only.
    const copied = [
      columns.data,
      columns.expiresAt,
      columns.user,
      ...this.names(Object.keys(values.extra)),
    ];
    const assignments = copied.map((column) => `${column} = excluded.${column}`);
    assignments.push(`${columns.version} = ${columns.table}.${columns.version} + 1`);
    if (columns.updatedAt) assignments.push(`${columns.updatedAt} = CURRENT_TIMESTAMP`);
    const sql = `${insert} ON CONFLICT (${columns.id}) DO UPDATE SET ${assignments.join(', ')}`;
    await this.resolve().repository.manager.query(sql, parameters);
  }

  async delete(sid: string): Promise<void> {
    await this.builder().delete().from(this.target()).where({ id: sid }).execute();
  }

  async deleteAll(): Promise<void> {
    await this.builder().delete().from(this.target()).execute();
  }

  /**
   * Deletes up to `limit` rows that expired by `now`, in one statement (a DELETE of the ids a
   * bounded subquery picks, which PostgreSQL and SQLite both accept); resolves to how many.
   */
  async deleteExpired(now: number, limit: number): Promise<number> {
    const expired = this.builder()
      .subQuery()
      .select('s.id')
      .from(this.target(), 's')
      .where({ expiresAt: LessThanOrEqual(now) })
      .limit(limit);
    const result = await this.builder()
      .delete()
      .from(this.target())
      .where(`${this.resolve().names.id} IN ${expired.getQuery()}`)
      .setParameters(expired.getParameters())
      .execute();
    return result.affected ?? 0;
  }

  /** The rows of `user` unexpired at `now`, with their data: one SELECT, on the user's index. */
  async selectByUser(user: string, now: number): Promise<UserRow[]> {
    return this.unexpiredRows(now)
      .select('s.id', 'id')
      .addSelect('s.data', 'data')
      .andWhere('s.user = :user', { user })
      .getRawMany<UserRow>();
  }

  /**
   * Deletes the rows of `user` unexpired at `now`, but the one of `exceptId` (when given), in one
   * statement; resolves to how many. Expired rows are left to the cleanup: they were no live
   * session, so they are not counted.
   */
  async deleteByUser(user: string, now: number, exceptId: string | undefined): Promise<number> {
    const except = exceptId === undefined ? {} : { id: Not(exceptId) };
    const result = await this.builder()
      .delete()
      .from(this.target())
      .where({ user, expiresAt: MoreThan(now), ...except })
      .execute();
    return result.affected ?? 0;
  }

  async count(now: number): Promise<number> {
    return this.unexpiredRows(now).getCount();
  }

  /** Ids and data of the rows unexpired at `now`. */
  async list(now: number, withData: boolean): Promise<Array<{ id: string; data?: string }>> {
    const query = this.unexpiredRows(now).select('s.id', 'id');
    if (withData) query.addSelect('s.data', 'data');
    return query.getRawMany<{ id: string; data?: string }>();
  }

  /** Resolves the repository now, so a wrong entity fails at start-up rather than on a request. */
  ensureEntity(): void {
    this.resolve();
  }

  private unexpiredRows(now: number) {
    return this.builder().from(this.target(), 's').where('s.expiresAt > :now', { now });
  }

  private insertQuery(sid: string, values: RowValues) {
    return this.builder()
      .insert()
      .into(this.target())
      .values({
        ...values.extra,
        id: sid,
        data: values.data,
        expiresAt: values.expiresAt,
        user: values.user,
      })
      .updateEntity(false);
  }

  private builder() {
    // From the manager, not the repository: a repository's builder aliases the table of an INSERT
    // on PostgreSQL, which the ON CONFLICT clause of upsert() does not expect.
    return this.resolve().repository.manager.createQueryBuilder();
  }

  private target(): EntityTarget<ObjectLiteral> {
    return this.resolve().target;
  }

  private names(properties: string[]): string[] {
    const { repository } = this.resolve();
    const { driver } = dataSourceOf(repository);
    return properties.flatMap((property) =>
      repository.metadata
        .findColumnsWithPropertyPath(property)
        .map((c) => driver.escape(c.databaseName)),
    );
  }

  /** The repository and column names, resolved once the DataSource is initialized. */
  private resolve(): NonNullable<SessionTable['resolved']> {
    if (this.resolved) return this.resolved;
    let repository: Repository<ObjectLiteral>;
    if ('dataSource' in this.source) {
      const { dataSource, entity } = this.source;
      if (!dataSource.isInitialized) {
        throw new Error(
          'TypeOrmStore: the DataSource is not initialized yet (await dataSource.initialize())',
        );
      }
      if (!dataSource.hasMetadata(entity)) {
        throw new Error(
          `TypeOrmStore: ${nameOf(entity)} is not an entity of this DataSource; add it to its "entities"`,
        );
      }
      repository = dataSource.getRepository(entity);
    } else {
      repository = this.source;
    }
    const { metadata } = repository;
    const { driver } = dataSourceOf(repository);
    // `set` is one INSERT … ON CONFLICT. (Early 0.3 releases do not say what they support.)
    const upserts = driver.supportedUpsertTypes as string[] | undefined;
    if (upserts && !upserts.includes('on-conflict-do-update')) {
      throw new Error(
        `TypeOrmStore works on PostgreSQL and SQLite; this DataSource is "${driver.options.type}"`,
      );
    }
    const column = (property: string) => {
      const found = metadata.findColumnWithPropertyName(property);
      if (!found)
        throw new TypeError(
          `TypeOrmStore: ${metadata.name} has no "${property}" column; extend SessionEntity`,
        );
      return driver.escape(found.databaseName);
    };
    if (metadata.versionColumn?.propertyName !== 'version') {
      throw new TypeError(
        `TypeOrmStore: ${metadata.name} needs the @VersionColumn "version"; extend SessionEntity`,
      );
    }
    const names: ColumnNames = {
      table: metadata.tablePath
        .split('.')
        .map((part) => driver.escape(part))
        .join('.'),
      id: column('id'),
      data: column('data'),
      expiresAt: column('expiresAt'),
      user: column('user'),
      version: column('version'),
      updatedAt: metadata.updateDateColumn && driver.escape(metadata.updateDateColumn.databaseName),
    };
    this.resolved = { repository, target: repository.target, names, dialect: dialectOf(driver) };
    return this.resolved;
  }
}

/** The repository's DataSource: TypeORM 1.x calls it `dataSource`, 0.3 `connection`. */
function dataSourceOf(repository: Repository<ObjectLiteral>): DataSource {
  const manager = repository.manager as { dataSource?: DataSource; connection?: DataSource };
  return (manager.dataSource ?? manager.connection) as DataSource;
}

function nameOf(entity: EntityTarget<unknown>): string {
  if (typeof entity === 'function') return entity.name;
  if (typeof entity === 'string') return entity;
  return 'name' in entity ? String(entity.name) : 'the entity';
}
