import express from 'express';
import expressSession from 'express-session';
import session from '../../lib/express';
import { MemoryStore } from '../../lib/stores/memory.store';
import { BOTH, listen, SECRET, type RunningApp } from './support';

/** Express moves a request between an app's prototypes and its sub-apps' as it routes it. */
describe.each(BOTH)('%s: mounted in a sub-app', (_name, library) => {
  let running: RunningApp;
  let store: MemoryStore;
  beforeEach(async () => {
    store = new MemoryStore();
    const sub = express();
    sub.use(library.session({ secret: SECRET, store, resave: false, saveUninitialized: false }));
    sub.get('/inside', (req, res) => {
      (req.session as unknown as Record<string, unknown>).where = 'sub-app';
      res.json({ id: req.sessionID });
    });
    const app = express();
    app.use(sub);
    // Past the sub-app, the request has the parent's prototypes again.
    app.get('/after', (req, res) => {
      (req.session as unknown as Record<string, unknown>).where = 'parent';
      res.json({ id: req.sessionID });
    });
    running = await listen(app);
  });
  afterEach(async () => {
    await running.close();
    store.close();
  });

  it.each(['inside', 'after'])(
    'a session changed %s the sub-app is stored before the response, and its cookie sent',
    async (where) => {
      const res = await running.http().get(`/${where}`);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']?.[0]).toMatch(/^connect\.sid=s%3A/);
      const id = (res.body as { id: string }).id;
      expect(typeof id).toBe('string');
      const stored = (await store.get(id)) as Record<string, unknown> | null;
      expect(stored?.where).toBe(where === 'inside' ? 'sub-app' : 'parent');
    },
  );
});

describe('the drop-in beside another Express app in the same process', () => {
  it("leaves that app's requests, responses and express-session alone", async () => {
    const tesseraStore = new MemoryStore();
    const withTessera = express();
    withTessera.use(session({ secret: SECRET, store: tesseraStore, saveUninitialized: false }));
    withTessera.get('/set', (req, res) => {
      (req.session as unknown as Record<string, unknown>).n = 1;
      res.json({ id: req.sessionID });
    });
    const withExpressSession = express();
    withExpressSession.use(
      expressSession({ secret: SECRET, resave: false, saveUninitialized: false }),
    );
    withExpressSession.get('/set', (req, res) => {
      (req.session as unknown as Record<string, unknown>).n = 2;
      res.json({ id: req.sessionID });
    });
    const bare = express();
    bare.get('/', (req, res) => {
      res.json({ sessionID: (req as { sessionID?: unknown }).sessionID ?? 'none' });
    });
    const apps = await Promise.all([withTessera, withExpressSession, bare].map(listen));
    try {
      const [tessera, other, plain] = apps;
      // Tessera's app first, so that anything it puts on Express's shared prototypes is there.
      const first = await tessera!.http().get('/set');
      expect(first.headers['set-cookie']).toHaveLength(1);
      const second = await other!.browser().get('/set');
      expect(second.headers['set-cookie']?.[0]).toMatch(/^connect\.sid=s%3A/);
      expect(typeof (second.body as { id: unknown }).id).toBe('string');
      expect((await plain!.http().get('/')).body).toEqual({ sessionID: 'none' });
      expect(await tesseraStore.length()).toBe(1);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      tesseraStore.close();
    }
  });
});
