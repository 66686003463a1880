import expressSession from 'express-session';
import type { SessionStore } from '../../lib';
import { SessionController } from '../src/session.controller';
import { PLATFORMS, startApp, type TestApp } from '../support/app';

/** A store in connect's original style: callbacks only, no Promises. */
function callbackOnlyStore() {
  const data = new Map<string, string>();
  return {
    data,
    get(sid: string, cb: (err: unknown, session?: unknown) => void) {
      setImmediate(() => cb(null, data.has(sid) ? JSON.parse(data.get(sid)!) : null));
    },
    set(sid: string, session: unknown, cb: (err?: unknown) => void) {
      data.set(sid, JSON.stringify(session));
      setImmediate(() => cb());
    },
    destroy(sid: string, cb: (err?: unknown) => void) {
      data.delete(sid);
      setImmediate(() => cb());
    },
  };
}

describe.each(PLATFORMS)('connect and express-session stores (%s)', (platform) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  const counts = async (app: TestApp) => {
    const browser = app.browser();
    expect((await browser.get('/').expect(200)).body.views).toBe(1);
    expect((await browser.get('/').expect(200)).body.views).toBe(2);
    await browser.post('/login').send({ user: 'ada' }).expect(200);
    expect((await browser.get('/read').expect(200)).body.data).toEqual({ user: 'ada' });
  };

  it('accepts a callback-only store (get, set, destroy with callbacks)', async () => {
    const store = callbackOnlyStore();
    t = await startApp({ store: store as unknown as SessionStore }, [SessionController], {
      platform,
    });
    await counts(t);
    expect(store.data.size).toBe(1);
  });

  it('accepts express-session’s own MemoryStore', async () => {
    const store = new expressSession.MemoryStore();
    t = await startApp({ store: store as unknown as SessionStore }, [SessionController], {
      platform,
    });
    await counts(t);
  });
});
