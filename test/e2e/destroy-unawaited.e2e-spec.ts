import { Controller, HttpCode, Post } from '@nestjs/common';
import { MemoryStore, Session } from '../../lib';
import { SessionController } from '../src/session.controller';
import { PLATFORMS, sessionCookie, setCookies, startApp, type TestApp } from '../support/app';
import { sleep, until } from '../support/time';

/** A real MemoryStore whose destroy waits for the test to let it go, or fails when told to. */
class HeldDestroyStore extends MemoryStore {
  destroyStarted = false;
  failDestroy = false;
  private release: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  letGo(): void {
    this.release();
  }

  override async destroy(sid: string): Promise<void> {
    this.destroyStarted = true;
    if (this.failDestroy) throw new Error('the store is down');
    await this.released;
    await super.destroy(sid);
  }
}

@Controller()
class UnawaitedController {
  /** Logs out the way code written for express-session does: without waiting for destroy(). */
  @Post('logout-unawaited')
  @HttpCode(200)
  logout(@Session() session: Session) {
    void session.destroy();
    return { bye: true };
  }
}

/**
 * A destroy() the handler did not wait for is still part of the request: the response waits
 * for it (a logout the store did not take is never answered as done), and its failure is a 503,
 * never an unhandled rejection.
 */
describe.each(PLATFORMS)('a destroy() nobody waited for (%s)', (platform) => {
  let app: TestApp;
  let store: HeldDestroyStore;

  beforeEach(async () => {
    store = new HeldDestroyStore({ sweepInterval: 0 });
    app = await startApp({ store }, [SessionController, UnawaitedController], { platform });
  });
  afterEach(async () => {
    store.letGo();
    await app.close();
    store.close();
  });

  it('holds the response until the store has destroyed the session', async () => {
    const made = await app.http().post('/set').send({ user: 'ada' }).expect(200);
    const cookie = sessionCookie(made);
    let answered = false;
    const logout = app
      .http()
      .post('/logout-unawaited')
      .set('Cookie', cookie)
      .then((res) => {
        answered = true;
        return res;
      });
    await until('the destroy to start', () => store.destroyStarted);
    // Time for a response that did not wait to arrive.
    await sleep(200);
    const answeredBeforeTheStore = answered;
    store.letGo();
    const res = await logout;
    expect(answeredBeforeTheStore).toBe(false);
    expect(res.status).toBe(200);
    expect(setCookies(res)['connect.sid']).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(await store.get(made.body.id)).toBeNull();
  });

  it('answers 503 when that destroy fails, and the app keeps serving', async () => {
    const made = await app.http().post('/set').send({ user: 'ada' }).expect(200);
    store.failDestroy = true;
    await app.http().post('/logout-unawaited').set('Cookie', sessionCookie(made)).expect(503);
    store.failDestroy = false;
    await app.http().get('/read').expect(200);
  });
});
