import express from 'express';
import expressSession from 'express-session';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { MemoryStore } from '../../lib';
import { SessionController } from '../src/session.controller';
import { SECRET, sessionCookie, startApp, type TestApp } from '../support/app';

/**
 * An app moving from express-session keeps its users signed in: same store, same secret, same
 * cookie name. Checked both ways against express-session itself, sharing one MemoryStore.
 */
describe('moving between express-session and Tessera', () => {
  let store: MemoryStore;
  let tessera: TestApp;
  let legacy: Server;
  let legacyUrl: string;

  beforeAll(async () => {
    store = new MemoryStore();
    tessera = await startApp({ store }, [SessionController]);
    const app = express();
    app.use(
      expressSession({
        secret: SECRET,
        store: store as unknown as expressSession.Store,
        resave: false,
        saveUninitialized: false,
      }),
    );
    app.get('/legacy/login', (req, res) => {
      (req.session as unknown as Record<string, unknown>).user = 'from express-session';
      res.json({ id: req.sessionID });
    });
    app.get('/legacy/keys', (req, res) => res.json(Object.keys(req.session)));
    app.post('/legacy/change', (req, res) => {
      (req.session as unknown as Record<string, unknown>).changed = 'by express-session';
      res.json({ id: req.sessionID });
    });
    app.get('/legacy/read', (req, res) =>
      res.json({
        id: req.sessionID,
        user: (req.session as unknown as Record<string, unknown>).user ?? null,
      }),
    );
    await new Promise<void>((resolve) => {
      legacy = app.listen(0, '127.0.0.1', () => resolve());
    });
    legacyUrl = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await tessera.close();
    await new Promise((resolve) => legacy.close(resolve));
    store.close();
  });

  it('a session made by express-session is read by Tessera', async () => {
    const login = await request(legacyUrl).get('/legacy/login').expect(200);
    const read = await tessera.http().get('/read').set('Cookie', sessionCookie(login)).expect(200);
    expect(read.body).toEqual(
      expect.objectContaining({ id: login.body.id, data: { user: 'from express-session' } }),
    );
  });

  it('a session made by Tessera is read by express-session, with MemoryStore as its store', async () => {
    const made = await tessera.http().post('/set').send({ user: 'from tessera' }).expect(200);
    const read = await request(legacyUrl)
      .get('/legacy/read')
      .set('Cookie', sessionCookie(made))
      .expect(200);
    expect(read.body).toEqual({ id: made.body.id, user: 'from tessera' });
  });

  it("keeps Tessera's own bookkeeping (times, user) in the cookie, where express-session sees no data key", async () => {
    const indexed = await startApp({ store, userId: (s) => s.user as string }, [SessionController]);
    try {
      const made = await indexed.http().post('/set').send({ user: 'ada' }).expect(200);
      const record = (await store.get(made.body.id))!;
      expect(record.cookie).toEqual(
        expect.objectContaining({
          createdAt: expect.any(Number),
          touchedAt: expect.any(Number),
          user: 'ada',
        }),
      );
      const cookie = sessionCookie(made);
      const keys = await request(legacyUrl).get('/legacy/keys').set('Cookie', cookie).expect(200);
      expect(keys.body.filter((key: string) => key !== 'cookie')).toEqual(['user']);
      await request(legacyUrl).post('/legacy/change').set('Cookie', cookie).expect(200);
      const read = await indexed.http().get('/read').set('Cookie', cookie).expect(200);
      expect(read.body).toEqual(
        expect.objectContaining({
          id: made.body.id,
          data: { user: 'ada', changed: 'by express-session' },
        }),
      );
    } finally {
      await indexed.close();
    }
  });
});
