import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Req,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestModule,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { map } from 'rxjs';
import {
  getSession,
  InjectSessionOptions,
  InjectSessionStore,
  MemoryStore,
  SESSION_OPTIONS,
  SESSION_STORE,
  SessionModule,
  SessionService,
  type ResolvedSessionOptions,
  type SessionModuleOptions,
  type SessionOptionsFactory,
  type SessionStore,
} from '../../lib';
import { SessionController } from '../src/session.controller';
import {
  PLATFORMS,
  SECRET,
  sessionCookie,
  setCookies,
  startApp,
  startModule,
  type TestApp,
} from '../support/app';

@Controller('probe')
class ProbeController {
  constructor(
    @InjectSessionStore() readonly store: SessionStore,
    @InjectSessionOptions() readonly options: ResolvedSessionOptions,
  ) {}

  @Get()
  probe() {
    return { store: this.store.constructor.name, name: this.options.name };
  }
}

/** Loaded through forRootAsync: the options come from ConfigService. */
@Module({
  imports: [
    ConfigModule.forRoot({
      ignoreEnvFile: true,
      load: [() => ({ SESSION_SECRET: SECRET, SESSION_NAME: 'from.config' })],
    }),
    SessionModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        secret: config.getOrThrow<string>('SESSION_SECRET'),
        name: config.get<string>('SESSION_NAME'),
      }),
    }),
  ],
  controllers: [SessionController, ProbeController],
})
class FactoryAppModule {}

class OptionsFromClass implements SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions {
    return { secret: SECRET, name: 'from.class' };
  }
}

@Module({ providers: [OptionsFromClass], exports: [OptionsFromClass] })
class OptionsModule {}

describe.each(PLATFORMS)('SessionModule (%s)', (platform) => {
  const apps: TestApp[] = [];
  const track = (t: TestApp) => (apps.push(t), t);
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
  });

  it('forRootAsync with useFactory takes its options from ConfigService', async () => {
    const t = track(await startModule(FactoryAppModule, platform));
    const res = await t.http().post('/set').send({ a: 1 }).expect(200);
    expect(Object.keys(setCookies(res))).toEqual(['from.config']);
    expect((await t.http().get('/probe')).body).toEqual({
      store: 'MemoryStore',
      name: 'from.config',
    });
  });

  it('forRootAsync with useClass and with useExisting', async () => {
    @Module({
      imports: [SessionModule.forRootAsync({ useClass: OptionsFromClass })],
      controllers: [SessionController],
    })
    class UseClassModule {}
    const viaClass = track(await startModule(UseClassModule, platform));
    expect(Object.keys(setCookies(await viaClass.http().post('/set').send({ a: 1 })))).toEqual([
      'from.class',
    ]);

    @Module({
      imports: [
        SessionModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFromClass }),
      ],
      controllers: [SessionController],
    })
    class UseExistingModule {}
    const viaExisting = track(await startModule(UseExistingModule, platform));
    expect(Object.keys(setCookies(await viaExisting.http().post('/set').send({ a: 1 })))).toEqual([
      'from.class',
    ]);
  });

  it('swapping the store is a change in the factory alone', async () => {
    const custom = new MemoryStore();
    @Module({
      imports: [
        SessionModule.forRootAsync({ useFactory: () => ({ secret: SECRET, store: custom }) }),
      ],
      controllers: [SessionController],
    })
    class CustomStoreModule {}
    const t = track(await startModule(CustomStoreModule, platform));
    const res = await t.http().post('/set').send({ a: 1 }).expect(200);
    expect(await custom.get(res.body.id)).toEqual(expect.objectContaining({ a: 1 }));
    custom.close();
  });

  it('is global: a feature module injects SessionService, SESSION_STORE and SESSION_OPTIONS without importing it', async () => {
    @Injectable()
    class FeatureService {
      constructor(
        readonly sessions: SessionService,
        @Inject(SESSION_STORE) readonly store: SessionStore,
        @Inject(SESSION_OPTIONS) readonly options: ResolvedSessionOptions,
      ) {}
    }
    @Module({ providers: [FeatureService], exports: [FeatureService] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: SECRET }), FeatureModule],
    }).compile();
    const feature = moduleRef.get(FeatureService);
    expect(feature.sessions).toBeInstanceOf(SessionService);
    expect(feature.store).toBeInstanceOf(MemoryStore);
    expect(feature.options.cookie).toEqual(
      expect.objectContaining({
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        maxAge: 14_400_000,
        secure: 'auto',
      }),
    );
    await moduleRef.close();
  });

  it('stops the default MemoryStore’s timer when the app closes', async () => {
    const t = await startApp({}, [ProbeController], { platform });
    const store = t.app.get<MemoryStore>(SESSION_STORE);
    const timer = () => (store as unknown as { sweepTimer?: unknown }).sweepTimer;
    expect(timer()).toBeDefined();
    await t.close();
    expect(timer()).toBeUndefined();
  });

  it('has no session on ignored paths: full pathnames (query aside) and RegExps only', async () => {
    const store = new MemoryStore();
    @Controller()
    class SessionProbe {
      constructor(private readonly sessions: SessionService) {}
      @Get(['favicon.ico', 'health', 'healthz', 'health/deep', 'static/app.js'])
      probe() {
        const session = this.sessions.current<{ hit?: boolean }>();
        if (session) session.hit = true;
        return { session: session ? 'yes' : 'none' };
      }
    }
    const t = track(
      await startApp({ store, ignore: ['/health', /^\/static\//] }, [SessionProbe], { platform }),
    );
    expect((await t.http().get('/health?x=1')).body).toEqual({ session: 'none' });
    expect((await t.http().get('/static/app.js')).body).toEqual({ session: 'none' });
    expect((await t.http().get('/healthz')).body).toEqual({ session: 'yes' });
    expect((await t.http().get('/health/deep')).body).toEqual({ session: 'yes' });
    // A given list replaces the default: /favicon.ico has a session now.
    expect((await t.http().get('/favicon.ico')).body).toEqual({ session: 'yes' });
    const byDefault = track(await startApp({}, [SessionProbe], { platform }));
    expect((await byDefault.http().get('/favicon.ico')).body).toEqual({ session: 'none' });
    const none = track(await startApp({ ignore: [] }, [SessionProbe], { platform }));
    expect((await none.http().get('/favicon.ico')).body).toEqual({ session: 'yes' });
    store.close();
  });

  it('gives req.session and req.sessionID on served paths only; an assignment to them holds', async () => {
    const store = new MemoryStore();
    type Probed = { url?: string; session?: { n?: number; id?: string }; sessionID?: string };
    @Controller()
    class RequestProbe {
      @Get(['health', 'count'])
      probe(@Req() req: Probed) {
        if (req.url === '/health')
          return { session: req.session ?? 'none', id: req.sessionID ?? 'none' };
        const session = req.session!;
        session.n = (session.n ?? 0) + 1;
        return { n: session.n, same: session.id === req.sessionID, id: req.sessionID };
      }
      @Get('replace')
      replace(@Req() req: Probed) {
        req.session = { n: -1 };
        req.sessionID = 'mine';
        return { session: req.session, id: req.sessionID };
      }
    }
    const t = track(await startApp({ store, ignore: ['/health'] }, [RequestProbe], { platform }));
    expect((await t.http().get('/health')).body).toEqual({ session: 'none', id: 'none' });
    const first = await t.http().get('/count').expect(200);
    expect(first.body).toEqual({ n: 1, same: true, id: expect.any(String) });
    const cookie = sessionCookie(first);
    const second = await t.http().get('/count').set('Cookie', cookie).expect(200);
    expect(second.body).toEqual({ n: 2, same: true, id: first.body.id });
    expect((await t.http().get('/health').set('Cookie', cookie)).body).toEqual({
      session: 'none',
      id: 'none',
    });
    expect((await t.http().get('/replace')).body).toEqual({ session: { n: -1 }, id: 'mine' });
    store.close();
  });

  it('runs before the middleware of the app’s own modules, which see req.session', async () => {
    const seen: string[] = [];
    @Controller()
    class OkController {
      @Get('mw')
      ok() {
        return seen;
      }
    }
    @Module({ controllers: [OkController] })
    class FeatureModule implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        consumer
          .apply((req: { session?: { cookie?: unknown } }, _res: unknown, next: () => void) => {
            seen.push(req.session?.cookie ? 'session' : 'none');
            next();
          })
          .forRoutes('{*path}');
      }
    }
    @Module({ imports: [FeatureModule, SessionModule.forRoot({ secret: SECRET })] })
    class RootModule {}
    const t = track(await startModule(RootModule, platform));
    await t.http().get('/mw').expect(200);
    expect(seen).toEqual(['session']);
  });

  it('serves sessions under a global prefix', async () => {
    const t = track(
      await startApp({}, [SessionController], {
        platform,
        configure: (app) => app.setGlobalPrefix('v1'),
      }),
    );
    const browser = t.browser();
    expect((await browser.get('/v1').expect(200)).body.views).toBe(1);
    expect((await browser.get('/v1').expect(200)).body.views).toBe(2);
  });

  it('gives guards and interceptors the session through the execution context', async () => {
    @Injectable()
    class SignedInGuard implements CanActivate {
      canActivate(context: ExecutionContext) {
        return getSession<{ user?: string }>(context)?.user !== undefined;
      }
    }
    @Injectable()
    class UserInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler) {
        const user = getSession<{ user?: string }>(context)?.user;
        return next.handle().pipe(map((body: object) => ({ ...body, user })));
      }
    }
    @Controller('private')
    @UseGuards(SignedInGuard)
    @UseInterceptors(UserInterceptor)
    class PrivateController {
      @Get()
      get() {
        return { secret: 42 };
      }
    }
    const t = track(await startApp({}, [SessionController, PrivateController], { platform }));
    const browser = t.browser();
    await browser.get('/private').expect(403);
    await browser.post('/set').send({ user: 'ada' }).expect(200);
    expect((await browser.get('/private').expect(200)).body).toEqual({ secret: 42, user: 'ada' });
  });

  it('SessionService outside a request: current() is undefined, and a method without a session throws a clear error', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: SECRET })],
    }).compile();
    const sessions = moduleRef.get(SessionService);
    expect(sessions.current()).toBeUndefined();
    expect(() => sessions.save()).toThrow(
      'SessionService.save() found no current session: it was called outside an HTTP request (or on an ignored path, or with the request context off: see the requestContext option). Pass the session explicitly: sessions.save(session).',
    );
    await moduleRef.close();
  });
});

describe('SessionModule options are checked at start-up', () => {
  const boot = (options: Partial<SessionModuleOptions>) =>
    Test.createTestingModule({
      imports: [SessionModule.forRoot(options as SessionModuleOptions)],
    }).compile();
  const boots = (options: Partial<SessionModuleOptions>, message: string) =>
    expect(boot(options)).rejects.toThrow(message);

  it.each([
    [{}, 'Session option "secret" is required'],
    [{ secret: '' }, 'Session option "secret" is required'],
    [{ secret: [] }, 'Session option "secret" is required'],
    [{ secret: [''] }, 'Session option "secret" is required'],
    [
      { secret: 's', store: {} as SessionStore },
      'Session option "store" must implement get(), set() and destroy(); it lacks get(), set(), destroy().',
    ],
    [
      { secret: 's', store: { get() {}, set() {} } as unknown as SessionStore },
      'it lacks destroy()',
    ],
    [
      { secret: 's', cookie: { maxAge: -1 } },
      'Session option "cookie.maxAge" must be a number of ms >= 0, or null for a browser-session cookie, got -1.',
    ],
    [
      { secret: 's', cookie: { sameSite: 'sideways' as 'lax' } },
      'Session option "cookie.sameSite"',
    ],
    [{ secret: 's', name: 'bad name;' }, 'Session option "name" must be a valid cookie name'],
    [
      { secret: 's', ignore: '/health' as unknown as string[] },
      'Session option "ignore" must be an array',
    ],
    [
      { secret: 's', storeTimeout: 0 },
      'Session option "storeTimeout" must be a number of ms > 0, got 0.',
    ],
    [{ secret: 's', touchAfter: -5 }, 'Session option "touchAfter"'],
    [
      { secret: 's', genid: 'abc' as unknown as () => string },
      'Session option "genid" must be a function',
    ],
  ])('%j fails naming the option', async (options, message) => {
    await boots(options as Partial<SessionModuleOptions>, message);
  });

  it('fails in forRootAsync too', async () => {
    await expect(
      Test.createTestingModule({
        imports: [SessionModule.forRootAsync({ useFactory: () => ({ secret: '' }) })],
      }).compile(),
    ).rejects.toThrow('Session option "secret" is required');
  });
});
