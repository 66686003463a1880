import { TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { SESSIONS_TABLE, USER_COLUMN, USER_INDEX } from './create-sessions-table.migration';

/**
 * Adds the per-user index (the `user_id` column of `SessionEntity.user`, and its index) to a
 * `sessions` table that `CreateSessionsTable` made in an earlier release, for apps that run with
 * `synchronize: false`; the table is then the one `synchronize` would make. Existing rows keep
 * their data and get `user_id` `NULL`: a session is indexed under its user at its next write.
 *
 * List it after `CreateSessionsTable`. What is already there is left alone, so on a table made by
 * this release (which has the column) it does nothing. Reverting it drops the column and its
 * index, whichever migration made them.
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
export class AddSessionsUserColumn implements MigrationInterface {
  /** TypeORM orders migrations by the timestamp that ends their name: after CreateSessionsTable. */
  readonly name = 'AddSessionsUserColumn1796428800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = await queryRunner.getTable(SESSIONS_TABLE);
    if (!table) {
      throw new Error(
        `AddSessionsUserColumn: there is no "${SESSIONS_TABLE}" table; list CreateSessionsTable before it`,
      );
    }
    if (!table.findColumnByName(USER_COLUMN.name)) {
      await queryRunner.addColumn(SESSIONS_TABLE, new TableColumn({ ...USER_COLUMN }));
    }
    if (!userIndexOf(table)) {
      await queryRunner.createIndex(SESSIONS_TABLE, new TableIndex({ ...USER_INDEX }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = await queryRunner.getTable(SESSIONS_TABLE);
    if (!table) return;
    // By name, re-read each time: on SQLite every change rebuilds the table.
    const index = userIndexOf(table);
    if (index?.name) await queryRunner.dropIndex(SESSIONS_TABLE, index.name);
    if (table.findColumnByName(USER_COLUMN.name)) {
      await queryRunner.dropColumn(SESSIONS_TABLE, USER_COLUMN.name);
    }
  }
}

/** The table's index of the user column alone, if it has one. */
function userIndexOf(table: Table): TableIndex | undefined {
  return table.indices.find(
    (index) => index.columnNames.length === 1 && index.columnNames[0] === USER_COLUMN.name,
  );
}
