import { Controller, Get, Inject, Injectable, type INestApplication } from '@nestjs/common';
import { Session, SessionService } from '../../lib';
import { PLATFORMS, sessionCookie, startApp, type TestApp } from '../support/app';

/** Set once the app is up: the route asks it without having it injected. */
let service: SessionService | undefined;

@Controller()
class ContextController {
  @Get('login')
  login(@Session() session: Session<{ user?: string }>) {
    session.user = 'ada';
    return { id: session.id };
  }

  /** What SessionService.current() finds during this request, for a class it was not injected into. */
  @Get('current')
  current() {
    return { id: service?.current()?.id ?? null };
  }
}

@Injectable()
class ByConstructor {
  constructor(readonly sessions: SessionService) {}
}

@Injectable()
class ByProperty {
  @Inject(SessionService) readonly sessions!: SessionService;
}

const byFactory = {
  provide: 'USES_SESSIONS',
  useFactory: (sessions: SessionService) => ({ sessions }),
  inject: [SessionService],
};

/**
 * The request context (AsyncLocalStorage) is entered only when something can use it: by default
 * exactly when something injects SessionService; `requestContext` says so explicitly.
 */
describe.each(PLATFORMS)('the request context (%s)', (platform) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    service = undefined;
  });

  const start = async (options: { requestContext?: boolean }, providers: unknown[] = []) => {
    t = await startApp(options, [ContextController], {
      platform,
      providers: providers as never,
      configure: (app: INestApplication) => {
        service = app.get(SessionService);
      },
    });
    const cookie = sessionCookie(await t.http().get('/login').expect(200));
    const res = await t.http().get('/current').set('Cookie', cookie).expect(200);
    return { found: res.body.id as string | null };
  };

  it('is off when nothing injects SessionService: current() finds nothing', async () => {
    expect((await start({})).found).toBeNull();
  });

  it('is on with requestContext: true, even when nothing injects SessionService', async () => {
    expect((await start({ requestContext: true })).found).toEqual(expect.any(String));
  });

  it('is off with requestContext: false, even when SessionService is injected', async () => {
    expect((await start({ requestContext: false }, [ByConstructor])).found).toBeNull();
  });

  it.each([
    ['a constructor parameter', ByConstructor],
    ['a property', ByProperty],
    ['a factory provider’s inject', byFactory],
  ])('is on when SessionService is injected through %s', async (_how, provider) => {
    expect((await start({}, [provider])).found).toEqual(expect.any(String));
  });
});
