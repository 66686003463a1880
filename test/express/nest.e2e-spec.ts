import {
  Controller,
  Get,
  Inject,
  Module,
  Post,
  Req,
  Session as NestSession,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request } from 'express';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import {
  Session,
  SESSION_STORE,
  SessionModule,
  SessionService,
  type SessionStore,
} from '../../lib';
import session from '../../lib/express';
import { MemoryStore } from '../../lib/stores/memory.store';
import { cookieOf, QUIET, setCookies } from './support';

/**
 * A Nest app that moved part of the way: its main.ts still mounts the drop-in (where
 * express-session was), and its AppModule also imports SessionModule. `@Session()` and
 * `SessionService` then work with the drop-in's sessions, the very same objects (after
 * `regenerate()`, the new one, as with express-session).
 */
@Controller()
class AccountController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login')
  async login(@Session() session: Session<{ user?: string }>, @Req() req: Request) {
    const regenerated = await this.sessions.regenerate();
    const current = this.sessions.current<{ user?: string }>()!;
    current.user = 'ada';
    return {
      id: regenerated.id,
      // As express-session, regenerate() puts a new object on req.session; SessionService
      // returns that one, and current() finds it.
      same:
        current === regenerated &&
        req.session === (regenerated as never) &&
        regenerated !== session,
    };
  }

  @Get('read')
  read(@Session() session: Session<{ user?: string }>, @Req() req: Request) {
    return {
      id: session.id,
      user: session.user ?? null,
      same: this.sessions.current() === session && req.session === (session as never),
    };
  }

  @Post('logout')
  async logout() {
    await this.sessions.destroy();
    return { ok: true };
  }
}

@Controller('module')
class ModuleStoreController {
  constructor(@Inject(SESSION_STORE) private readonly store: SessionStore) {}

  @Get('length')
  async length() {
    return { length: await this.store.length!() };
  }
}

@Module({
  imports: [SessionModule.forRoot({ secret: "SessionModule's own secret, unused here" })],
  controllers: [AccountController, ModuleStoreController],
})
class MixedModule {}

@Controller()
class NestDecoratorController {
  @Post('views')
  views(@NestSession() data: Record<string, unknown>) {
    data.views = ((data.views as number | undefined) ?? 0) + 1;
    return { views: data.views };
  }
}

@Module({ controllers: [NestDecoratorController] })
class DropInOnlyModule {}

/** As a main.ts does it: create, mount the drop-in, listen. */
async function bootstrap(root: object, store: MemoryStore) {
  const app: INestApplication = await NestFactory.create(root as never, { logger: false });
  app.use(session({ ...QUIET, store, name: 'app.sid' }));
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { app, url };
}

describe('the drop-in in main.ts with SessionModule imported too', () => {
  let app: INestApplication;
  let url: string;
  let store: MemoryStore;

  beforeAll(async () => {
    store = new MemoryStore({ sweepInterval: 0 });
    ({ app, url } = await bootstrap(MixedModule, store));
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  it('@Session() and SessionService.current() give the drop-in’s session, one object', async () => {
    const browser = request.agent(url);
    const login = await browser.post('/login').expect(201);
    expect(login.body.same).toBe(true);
    // One cookie, the drop-in's; one store, the drop-in's.
    expect(Object.keys(setCookies(login))).toEqual(['app.sid']);
    expect(cookieOf(login, 'app.sid')).toContain(encodeURIComponent(`s:${login.body.id}.`));
    expect((await store.get(login.body.id))?.user).toBe('ada');
    expect((await browser.get('/module/length').expect(200)).body).toEqual({ length: 0 });

    const read = await browser.get('/read').expect(200);
    expect(read.body).toEqual({ id: login.body.id, user: 'ada', same: true });

    await browser.post('/logout').expect(201);
    expect(await store.get(login.body.id)).toBeNull();
    expect((await browser.get('/read').expect(200)).body.user).toBeNull();
  });
});

describe('the drop-in in main.ts alone', () => {
  it("serves Nest's own @Session() decorator, as express-session did", async () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    const { app, url } = await bootstrap(DropInOnlyModule, store);
    try {
      const browser = request.agent(url);
      expect((await browser.post('/views').expect(201)).body).toEqual({ views: 1 });
      expect((await browser.post('/views').expect(201)).body).toEqual({ views: 2 });
      expect(await store.length()).toBe(1);
    } finally {
      await app.close();
      store.close();
    }
  });
});
