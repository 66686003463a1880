import 'reflect-metadata';
import { Controller, Get, Logger, Module, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getRepositoryToken } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import { Session, SessionModule } from '../../lib';
import { SessionEntity, TypeOrmStore } from '../../lib/typeorm';
import { storedSession } from '../support/records';
import { SECRET, sessionCookie, startApp, startModule, type TestApp } from '../support/app';
import { bothDatabases, StatementLog } from './databases';

const sqliteInMemory = (log?: StatementLog) =>
  TypeOrmModule.forRoot({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [SessionEntity],
    synchronize: true,
    logger: log,
  });

describe('TypeOrmStore with @nestjs/typeorm', () => {
  const timerOf = (store: TypeOrmStore) =>
    (store as unknown as { cleanupTimer?: NodeJS.Timeout }).cleanupTimer;

  it('is built from the DataSource that TypeOrmModule.forRoot({ entities: [SessionEntity] }) provides', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [sqliteInMemory()],
      providers: [
        {
          provide: TypeOrmStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new TypeOrmStore({ dataSource }),
        },
      ],
    }).compile();
    const app = await moduleRef.init();
    const store = app.get(TypeOrmStore);
    const dataSource = app.get(DataSource);
    expect(dataSource.hasMetadata(SessionEntity)).toBe(true);
    const session = storedSession({ a: 1 });
    await store.set('abc', session);
    expect(await store.get('abc')).toEqual(session);
    expect(timerOf(store)?.hasRef()).toBe(false);

    await app.close();
    // Nest's shutdown hook stopped the cleanup; TypeOrmModule, which opened the DataSource, closed it.
    expect(timerOf(store)).toBeUndefined();
    expect(dataSource.isInitialized).toBe(false);
  });

  it('is built from a repository that TypeOrmModule.forFeature([SessionEntity]) provides', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [sqliteInMemory(), TypeOrmModule.forFeature([SessionEntity])],
      providers: [
        {
          provide: TypeOrmStore,
          inject: [getRepositoryToken(SessionEntity)],
          useFactory: (repository: Repository<SessionEntity>) => new TypeOrmStore({ repository }),
        },
      ],
    }).compile();
    const app = await moduleRef.init();
    const store = app.get(TypeOrmStore);
    await store.set('abc', storedSession({ a: 1 }));
    expect(await store.ids()).toEqual(['abc']);
    await app.close();
  });
});

@Controller()
class CounterController {
  @Get()
  count(@Session() session: Session<{ views?: number }>) {
    session.views = (session.views ?? 0) + 1;
    return { views: session.views };
  }

  @Get('peek')
  peek(@Session() session: Session<{ views?: number }>) {
    return { views: session.views ?? 0 };
  }
}

describe('SessionModule.forRootAsync with a TypeOrmStore on the app’s DataSource', () => {
  const log = new StatementLog();
  let t: TestApp | undefined;
  async function start(options: { touchAfter?: number } = {}): Promise<TestApp> {
    @Module({
      imports: [
        sqliteInMemory(log),
        SessionModule.forRootAsync({
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            secret: SECRET,
            ...options,
            store: new TypeOrmStore({ dataSource }),
          }),
        }),
      ],
      controllers: [CounterController],
    })
    class AppModule {}
    return (t = await startModule(AppModule));
  }
  afterEach(() => t?.close());

  it('keeps the session in the sessions table, with one statement per request', async () => {
    const t = await start();
    let cookie = '';
    const first = await log.during(async () => {
      cookie = sessionCookie(await t.http().get('/').expect(200, { views: 1 }));
    });
    // A new session: one INSERT.
    expect(first.map(verb)).toEqual(['INSERT']);

    const unchanged = await log.during(() =>
      t.http().get('/peek').set('Cookie', cookie).expect(200, { views: 1 }),
    );
    // An unchanged session: one SELECT by primary key, no write.
    expect(unchanged.map(verb)).toEqual(['SELECT']);

    const changed = await log.during(() =>
      t.http().get('/').set('Cookie', cookie).expect(200, { views: 2 }),
    );
    // A changed session: its SELECT, then one UPDATE that merges the change in the database.
    expect(changed.map(verb)).toEqual(['SELECT', 'UPDATE']);
    expect(changed[1]).toMatch(/WHERE \("id" = \S+ AND "expires_at" > \S+\)$/);
  });

  it('answers 503 with the cause logged when the database fails, and serves again once it is back', async () => {
    const logged: string[] = [];
    jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((message: unknown) => void logged.push(String(message)));
    try {
      const t = await start();
      const cookie = sessionCookie(await t.http().get('/').expect(200));
      const dataSource = t.app.get(DataSource);
      await dataSource.query('ALTER TABLE "sessions" RENAME TO "sessions_away"');
      await t.http().get('/').set('Cookie', cookie).expect(503);
      expect(logged.join('\n')).toMatch(/no such table: sessions/);
      await dataSource.query('ALTER TABLE "sessions_away" RENAME TO "sessions"');
      await t.http().get('/').set('Cookie', cookie).expect(200, { views: 2 });
    } finally {
      jest.restoreAllMocks();
    }
  });
});

describe('SessionModule.forRootAsync with a TypeOrmStore: a due touch', () => {
  const log = new StatementLog();
  it('costs the touch one UPDATE of the cookie and the expiry, after the request’s read', async () => {
    @Module({
      imports: [
        sqliteInMemory(log),
        SessionModule.forRootAsync({
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            secret: SECRET,
            touchAfter: 0,
            store: new TypeOrmStore({ dataSource }),
          }),
        }),
      ],
      controllers: [CounterController],
    })
    class AppModule {}
    const t = await startModule(AppModule);
    try {
      const cookie = sessionCookie(await t.http().get('/').expect(200));
      const touched = await log.during(() =>
        t.http().get('/peek').set('Cookie', cookie).expect(200),
      );
      expect(touched.map(verb)).toEqual(['SELECT', 'UPDATE']);
      expect(touched[1]).toMatch(/WHERE \("id" = \S+ AND "expires_at" > \S+\)$/);
    } finally {
      await t.close();
    }
  });
});

@Controller('keys')
class KeysController {
  @Get('all')
  all(@Session() session: Session<Record<string, unknown>>) {
    return { ...session };
  }

  @Get(':key')
  write(@Session() session: Session<Record<string, unknown>>, @Param('key') key: string) {
    session[key] = key.length;
    return { ok: true };
  }
}

describe.each(bothDatabases())('50 parallel requests of one session, on %s', (_name, database) => {
  it('all answer 200, keep their key, and cost a SELECT and one UPDATE each', async () => {
    const log = new StatementLog();
    const dataSource = await database.open({ entities: [SessionEntity], logger: log });
    const store = new TypeOrmStore({ dataSource, cleanupInterval: 0 });
    const t = await startApp({ store }, [KeysController]);
    try {
      const cookie = sessionCookie(await t.http().get('/keys/first').expect(200));
      const keys = Array.from({ length: 50 }, (_, i) => `key${i}`);
      const statuses: number[] = [];
      const statements = await log.during(() =>
        Promise.all(
          keys.map(async (key) => {
            statuses.push((await t.http().get(`/keys/${key}`).set('Cookie', cookie)).status);
          }),
        ),
      );
      expect(statuses).toEqual(keys.map(() => 200));
      expect(statements.map(verb).sort()).toEqual([
        ...keys.map(() => 'SELECT'),
        ...keys.map(() => 'UPDATE'),
      ]);
      const all = await t.http().get('/keys/all').set('Cookie', cookie).expect(200);
      expect(all.body).toEqual(
        Object.fromEntries([['first', 5], ...keys.map((key) => [key, key.length])]),
      );
    } finally {
      await t.close();
      await store.close();
      await dataSource.destroy();
    }
  });
});

function verb(sql: string): string {
  return sql.split(' ')[0]!;
}
