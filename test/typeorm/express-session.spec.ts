import 'reflect-metadata';
import express from 'express';
import expressSession from 'express-session';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import type { StoredSession } from '../../lib/core/stored-session';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { bothDatabases } from './databases';

/** TypeOrmStore is also an express-session store, as the built-in stores all are. */
describe.each(bothDatabases())('TypeOrmStore under express-session, on %s', (_name, database) => {
  let dataSource: DataSource;
  let store: TypeOrmStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dataSource = await database.open({ entities: [SessionEntity] });
    store = new TypeOrmStore({ dataSource });
    const app = express();
    app.use(
      expressSession({
        secret: 'keyboard cat',
        store: store as unknown as expressSession.Store,
        resave: false,
        saveUninitialized: false,
        rolling: true,
      }),
    );
    app.get('/count', (req, res) => {
      const session = req.session as unknown as { views?: number };
      session.views = (session.views ?? 0) + 1;
      res.json({ views: session.views });
    });
    app.get('/peek', (req, res) => {
      res.json({ views: (req.session as unknown as { views?: number }).views ?? 0 });
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    await dataSource.destroy();
  });

  beforeEach(() => dataSource.getRepository(SessionEntity).clear());

  it('keeps a session in the sessions table, in express-session’s own layout', async () => {
    const browser = request.agent(url);
    await browser.get('/count').expect(200, { views: 1 });
    await browser.get('/count').expect(200, { views: 2 });
    const [row] = await dataSource.getRepository(SessionEntity).find();
    expect(JSON.parse(row!.data)).toEqual({
      views: 2,
      cookie: expect.objectContaining({ path: '/', httpOnly: true, originalMaxAge: null }),
    });
  });

  it('reads a record the store merged in the database (a touch, a patch), whatever its key order', async () => {
    const browser = request.agent(url);
    await browser.get('/count').expect(200, { views: 1 });
    // An unchanged session under rolling: express-session calls touch(), one merging UPDATE.
    await browser.get('/peek').expect(200, { views: 1 });
    const repository = dataSource.getRepository(SessionEntity);
    const [{ id, data }] = (await repository.find()) as [SessionEntity];
    const stored = JSON.parse(data) as StoredSession;
    await store.patch(id, {
      set: { views: 41, extra: { b: 1, a: [2] } },
      unset: [],
      session: stored,
      base: null,
    });
    await browser.get('/count').expect(200, { views: 42 });
    expect(JSON.parse((await repository.findOneByOrFail({ id })).data)).toEqual({
      views: 42,
      extra: { b: 1, a: [2] },
      cookie: expect.objectContaining({ path: '/', httpOnly: true }),
    });
  });
});
