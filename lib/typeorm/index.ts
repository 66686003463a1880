// The `@tessera/session/typeorm` entry: the only one that loads `typeorm`.
export { SessionEntity } from './session.entity';
export { TypeOrmStore } from './typeorm.store';
export type { TypeOrmStoreOptions } from './typeorm-store.options';
export { CreateSessionsTable } from './create-sessions-table.migration';
export { AddSessionsUserColumn } from './add-sessions-user-column.migration';
