import express from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { MemoryStore } from '../../lib/stores/memory.store';
import { BOTH, cookieOf, idOf, listen, QUIET, setCookies, type RunningApp } from './support';

interface User {
  id: number;
  name: string;
  password: string;
}
const USERS: User[] = [{ id: 1, name: 'ada', password: 'lovelace' }];

/**
 * passport, unchanged, on both libraries: `passport.authenticate('local')` signs in (it calls
 * `req.session.regenerate()` and `save()` with callbacks), `passport.session()` gives `req.user`
 * on the next request, `req.logout(callback)` signs out.
 */
describe.each(BOTH)('passport on %s', (_name, library) => {
  let store: MemoryStore;
  let app: RunningApp;

  beforeEach(async () => {
    store = new MemoryStore({ sweepInterval: 0 });
    const passport = new Passport();
    passport.use(
      new LocalStrategy((username, password, done) => {
        const user = USERS.find((u) => u.name === username && u.password === password);
        done(null, user ?? false);
      }),
    );
    passport.serializeUser<number>((user, done) => done(null, (user as User).id));
    passport.deserializeUser<number>((id, done) =>
      done(null, USERS.find((u) => u.id === id) ?? false),
    );
    const web = express();
    web.use(express.json());
    web.use(library.session({ ...QUIET, store }));
    web.use(passport.initialize());
    web.use(passport.session());
    web.get('/visit', (req, res) => {
      (req.session as unknown as Record<string, unknown>).visited = true;
      res.json({ id: req.sessionID });
    });
    web.post('/login', passport.authenticate('local'), (req, res) => {
      res.json({ user: (req.user as User).name, id: req.sessionID });
    });
    web.post(
      '/login-keeping-info',
      passport.authenticate('local', { keepSessionInfo: true }),
      (req, res) => {
        const { visited } = req.session as unknown as { visited?: boolean };
        res.json({ visited: visited ?? false });
      },
    );
    web.get('/me', (req, res) => {
      res.json({ user: (req.user as User | undefined)?.name ?? null, in: req.isAuthenticated() });
    });
    web.post('/logout', (req, res, next) => {
      req.logout((err) => (err ? next(err) : res.json({ id: req.sessionID })));
    });
    app = await listen(web);
  });

  afterEach(async () => {
    await app.close();
    store.close();
  });

  it('signs in on a new session id, keeps the user, and signs out', async () => {
    const browser = app.browser();
    const visit = await browser.get('/visit').expect(200);
    expect((await browser.get('/me').expect(200)).body).toEqual({ user: null, in: false });

    const login = await browser.post('/login').send({ username: 'ada', password: 'lovelace' });
    expect(login.status).toBe(200);
    expect(login.body.user).toBe('ada');
    // regenerate(): a new id, the pre-login session gone (no session fixation).
    expect(login.body.id).not.toBe(visit.body.id);
    expect(idOf(cookieOf(login))).toBe(login.body.id);
    expect(await store.get(visit.body.id)).toBeNull();
    expect((await store.get(login.body.id))?.passport).toEqual({ user: 1 });

    expect((await browser.get('/me').expect(200)).body).toEqual({ user: 'ada', in: true });

    const logout = await browser.post('/logout').expect(200);
    expect(logout.body.id).not.toBe(login.body.id);
    expect(await store.get(login.body.id)).toBeNull();
    expect((await browser.get('/me').expect(200)).body).toEqual({ user: null, in: false });
  });

  it('refuses a wrong password with a 401, and stores nothing', async () => {
    const res = await app.http().post('/login').send({ username: 'ada', password: 'babbage' });
    expect(res.status).toBe(401);
    expect(setCookies(res)).toEqual({});
    expect(await store.length()).toBe(0);
  });

  it('keepSessionInfo: true keeps what the session held before the login, as with express-session', async () => {
    const browser = app.browser();
    await browser.get('/visit').expect(200);
    const login = await browser
      .post('/login-keeping-info')
      .send({ username: 'ada', password: 'lovelace' });
    expect(login.status).toBe(200);
    // regenerate() hands passport a new object and leaves the old one's data for it to copy.
    expect(login.body).toEqual({ visited: true });
    expect((await browser.get('/me').expect(200)).body).toEqual({ user: 'ada', in: true });
  });
});
