import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import type { ValueTransformer } from 'typeorm';

/**
 * PostgreSQL hands `bigint` back as a string (it can exceed 2^53); epoch milliseconds never do,
 * so the entity exposes them as the number every driver can compare and `Date` can take.
 */
const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/**
 * One session as a row of the `sessions` table: what `TypeOrmStore` reads and writes.
 *
 * Register it in the app's own `DataSource` (`entities: [SessionEntity]`, or
 * `TypeOrmModule.forRoot({ entities: [SessionEntity] })`), or create the table with
 * `CreateSessionsTable` when the app runs with `synchronize: false` (a table made by an earlier
 * release gets the `user_id` column from `AddSessionsUserColumn`).
 *
 * To add columns, subclass it and give the subclass its own `@Entity()` (TypeORM's concrete
 * table inheritance: the subclass's table gets every inherited column and index). Register the
 * subclass *instead of* `SessionEntity` and pass it to the store as `entity`. Do not use
 * `@TableInheritance` / `@ChildEntity`: single-table inheritance adds a discriminator column
 * that the store does not write.
 *
 * Column names are explicit, so a naming strategy (snake_case or other) cannot move them away
 * from what the migration creates.
 *
 * @publicApi
 * @example
 * ```ts
 * @Entity('sessions')
 * export class AppSession extends SessionEntity {
 *   @Index()
 *   @Column({ type: 'varchar', length: 64, nullable: true })
 *   tenantId!: string | null;
 * }
 *
 * new TypeOrmStore({ dataSource, entity: AppSession });
 * ```
 */
@Entity('sessions')
export class SessionEntity {
  /** The session id (the value signed into the cookie). */
  @PrimaryColumn({ type: 'varchar', length: 255, name: 'id' })
  id!: string;

  /**
   * The JSON text of the stored session: its data's keys plus `cookie`, the layout
   * express-session stores use. Text rather than a driver's own JSON type keeps PostgreSQL and
   * SQLite identical and the bytes of `set` exactly what was written. A patch or touch merges
   * into it in the database (on PostgreSQL through jsonb and back), so after one the key order and
   * whitespace may differ; the JSON value is the same.
   */
  @Column({ type: 'text', name: 'data' })
  data!: string;

  /** When the session expires, in ms since the epoch. Indexed: expired rows are found by it. */
  @Index()
  @Column({ type: 'bigint', name: 'expires_at', transformer: epochMs })
  expiresAt!: number;

  /**
   * The user the session belongs to: its record's `cookie.user` (see the `userId` module option),
   * `null` when it has none. The store's per-user index (`findByUser`, `destroyByUser`); written
   * with the data by every write, so it always names the user the stored record does. Up to 255
   * characters, as the id.
   */
  @Index()
  @Column({ type: 'varchar', length: 255, name: 'user_id', nullable: true })
  user!: string | null;

  /** When the row was first written. */
  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  /** When the row was last written. */
  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  /**
   * Incremented by every write. A change the database cannot merge by itself is written
   * conditioned on it (optimistic concurrency).
   */
  @VersionColumn({ name: 'version' })
  version!: number;
}
