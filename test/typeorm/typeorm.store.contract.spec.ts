import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { describeStoreContract } from '../stores/store-contract';
import { describeUserIndexContract } from '../stores/user-index-contract';
import { bothDatabases } from './databases';

// The store contract every Tessera store keeps, and its per-user index, on real PostgreSQL and
// SQLite, with the store built both ways an app can build it.
describe.each(bothDatabases())('TypeOrmStore on %s', (_name, database) => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await database.open({ entities: [SessionEntity] });
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  describeStoreContract(`TypeOrmStore ({ dataSource }, ${database.driver})`, async () => {
    await dataSource.getRepository(SessionEntity).clear();
    const store = new TypeOrmStore({ dataSource });
    return { store, close: () => store.close() };
  });

  describeStoreContract(`TypeOrmStore ({ repository }, ${database.driver})`, async () => {
    await dataSource.getRepository(SessionEntity).clear();
    const store = new TypeOrmStore({
      repository: dataSource.getRepository(SessionEntity),
      cleanupInterval: 0,
    });
    return { store, close: () => store.close() };
  });

  describeUserIndexContract(`TypeOrmStore ({ dataSource }, ${database.driver})`, async () => {
    await dataSource.getRepository(SessionEntity).clear();
    const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
    return { store, close: () => store.close() };
  });

  describeUserIndexContract(`TypeOrmStore ({ repository }, ${database.driver})`, async () => {
    await dataSource.getRepository(SessionEntity).clear();
    const store = new TypeOrmStore({
      repository: dataSource.getRepository(SessionEntity),
      cleanupInterval: 0,
    });
    return { store, close: () => store.close() };
  });
});
