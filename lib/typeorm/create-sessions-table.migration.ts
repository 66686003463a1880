import { Table } from 'typeorm';
import type {
  DataSource,
  MigrationInterface,
  QueryRunner,
  TableColumnOptions,
  TableIndexOptions,
} from 'typeorm';

/** The table `SessionEntity` maps to, which the migrations create and alter. */
export const SESSIONS_TABLE = 'sessions';

/**
 * The column of the per-user index (`SessionEntity.user`), as `CreateSessionsTable` creates it
 * and `AddSessionsUserColumn` adds it to an older table: one definition, so the two never differ.
 */
export const USER_COLUMN: Readonly<TableColumnOptions> = {
  name: 'user_id',
  type: 'varchar',
  length: '255',
  isNullable: true,
};

/** Its index. Unnamed: TypeORM names it as it names the entity's @Index(), so the two never differ. */
export const USER_INDEX: Readonly<TableIndexOptions> = { columnNames: [USER_COLUMN.name] };

/**
 * Creates the `sessions` table of `SessionEntity` (with its expiry and user indexes), for apps that run
 * with `synchronize: false`. It builds the table through TypeORM's schema API with the driver's
 * own types and the app's naming strategy, so it is the table `synchronize` would have made, on
 * PostgreSQL and on SQLite alike, and `migration:generate` finds nothing left to do.
 *
 * A table this migration made in an earlier release, without the `user_id` column, gets it from
 * `AddSessionsUserColumn`; list both, in this order (on a table made by this release that one
 * has nothing to do). An entity that extends `SessionEntity` under another table name, or with
 * more columns, gets its migration from `typeorm migration:generate` instead.
 *
 * @publicApi
 * @example
 * ```ts
 * new DataSource({
 *   type: 'postgres',
 *   entities: [SessionEntity],
 *   migrations: [CreateSessionsTable, AddSessionsUserColumn],
 *   migrationsRun: true,
 * })
 * ```
 */
export class CreateSessionsTable implements MigrationInterface {
  /** TypeORM orders migrations by the timestamp that ends their name. */
  readonly name = 'CreateSessionsTable1795824000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const { driver } = dataSourceOf(queryRunner);
    const types = driver.mappedDataTypes;
    const table = new Table({
      name: SESSIONS_TABLE,
      columns: [
        { name: 'id', type: 'varchar', length: '255', isPrimary: true },
        { name: 'data', type: 'text' },
        { name: 'expires_at', type: 'bigint' },
        { ...USER_COLUMN },
        { name: 'created_at', type: String(types.createDate), default: types.createDateDefault },
        { name: 'updated_at', type: String(types.updateDate), default: types.updateDateDefault },
        { name: 'version', type: 'integer' },
      ],
      // Unnamed: TypeORM names them as it names the entity's @Index(), so the two never differ.
      indices: [{ columnNames: ['expires_at'] }, { ...USER_INDEX }],
    });
    await queryRunner.createTable(table, true);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(SESSIONS_TABLE, true);
  }
}

/** TypeORM 1.x calls it `dataSource`, 0.3 `connection`. */
function dataSourceOf(queryRunner: QueryRunner): DataSource {
  const runner = queryRunner as { dataSource?: DataSource; connection?: DataSource };
  return (runner.dataSource ?? runner.connection) as DataSource;
}
