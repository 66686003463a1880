import 'reflect-metadata';
import express from 'express';
import expressSession from 'express-session';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { sqlite } from './databases';

/** TypeOrmStore is also an express-session store, as the built-in stores all are. */
describe('TypeOrmStore under express-session', () => {
  let dataSource: DataSource;
  let store: TypeOrmStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dataSource = await sqlite.open({ entities: [SessionEntity] });
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
});
