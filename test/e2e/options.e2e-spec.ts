import {
  Controller,
  Get,
  Module,
  Req,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { IncomingMessage } from 'node:http';
import { MemoryStore, SessionModule, type SessionModuleOptions } from '../../lib';
import { SessionController } from '../src/session.controller';
import {
  appsPerTest,
  PLATFORMS,
  SECRET,
  sessionCookie,
  setCookies,
  startModule,
} from '../support/app';

describe.each(PLATFORMS)('secret rotation, fingerprint and genid (%s)', (platform) => {
  const start = appsPerTest(platform, [SessionController]);

  it('rotates secrets: the first signs, every one verifies, an old-secret cookie is re-issued on that response', async () => {
    const store = new MemoryStore();
    const before = await start({ secret: 'old secret', store });
    const res = await before.http().post('/set').send({ user: 'ada' }).expect(200);
    const oldCookie = sessionCookie(res);
    const after = await start({ secret: ['new secret', 'old secret'], store });
    const read = await after.http().get('/read').set('Cookie', oldCookie).expect(200);
    expect(read.body.data).toEqual({ user: 'ada' });
    const reissued = sessionCookie(read);
    expect(reissued).not.toBe(oldCookie);
    // The new cookie carries the same id, signed with the first secret: it works without the old one.
    const onlyNew = await start({ secret: 'new secret', store });
    const again = await onlyNew.http().get('/read').set('Cookie', reissued).expect(200);
    expect(again.body).toEqual(expect.objectContaining({ id: res.body.id, data: { user: 'ada' } }));
    // A cookie signed with the first secret is not re-issued.
    expect(setCookies(await after.http().get('/read').set('Cookie', reissued))).toEqual({});
    store.close();
  });

  it('fingerprint: a mismatch gives a fresh, empty session and leaves the original untouched', async () => {
    const store = new MemoryStore();
    const t = await start({
      store,
      fingerprint: (req: IncomingMessage) => String(req.headers['user-agent']),
    });
    const res = await t
      .http()
      .post('/set')
      .set('User-Agent', 'browser A')
      .send({ user: 'ada' })
      .expect(200);
    const cookie = sessionCookie(res);
    const thief = await t
      .http()
      .post('/set')
      .set('User-Agent', 'browser B')
      .set('Cookie', cookie)
      .send({ stolen: true })
      .expect(200);
    expect(thief.body.id).not.toBe(res.body.id);
    const original = await t
      .http()
      .get('/read')
      .set('User-Agent', 'browser A')
      .set('Cookie', cookie)
      .expect(200);
    expect(original.body).toEqual(
      expect.objectContaining({ id: res.body.id, data: { user: 'ada' } }),
    );
    // Only a hash of the fingerprint is stored, and it is not one of the session's data keys.
    const stored = JSON.stringify(await store.get(res.body.id));
    expect(stored).not.toContain('browser A');
    store.close();
  });

  it('genid makes the ids', async () => {
    let n = 0;
    const t = await start({ genid: () => `custom-${++n}` });
    expect((await t.http().post('/set').send({ a: 1 })).body.id).toBe('custom-1');
  });

  it('the default id has at least 128 bits from crypto (43 base64url characters)', async () => {
    const t = await start({});
    const ids = await Promise.all(
      Array.from(
        { length: 5 },
        async () => (await t.http().post('/set').send({ a: 1 })).body.id as string,
      ),
    );
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(ids).size).toBe(5);
  });
});

describe('plain Express middleware', () => {
  it('sees req.session and req.sessionID, as express-session users expect', async () => {
    const seen: unknown[] = [];
    @Controller()
    class Ok {
      @Get('plain')
      plain(@Req() req: { sessionID: string }) {
        return { id: req.sessionID };
      }
    }
    @Module({ controllers: [Ok] })
    class Feature implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        consumer
          .apply(
            (
              req: { session: Record<string, unknown>; sessionID: string },
              _res: unknown,
              next: () => void,
            ) => {
              req.session.fromMiddleware = true;
              seen.push(req.sessionID);
              next();
            },
          )
          .forRoutes('{*path}');
      }
    }
    const { SessionModule } = await import('../../lib');
    @Module({
      imports: [SessionModule.forRoot({ secret: SECRET }), Feature],
      controllers: [SessionController],
    })
    class Root {}
    const t = await startModule(Root);
    const browser = t.browser();
    const res = await browser.get('/plain').expect(200);
    expect(res.body.id).toBe(seen[0]);
    expect((await browser.get('/read')).body.data).toEqual({ fromMiddleware: true });
    await t.close();
  });
});

describe('cookie options are checked when the app is created', () => {
  const PATH_RULE = 'must be a path starting with "/", without spaces, control characters or ";"';
  const NAME_RULE = "must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)";

  it.each<[string, Partial<SessionModuleOptions>, string]>([
    [
      'an injected path',
      { cookie: { path: '/; Domain=evil.example; SameSite=None' } },
      `Session option "cookie.path" ${PATH_RULE}, got "/; Domain=evil.example; SameSite=None".`,
    ],
    [
      'a CRLF in the path',
      { cookie: { path: '/\r\nX-Injected: 1' } },
      `Session option "cookie.path" ${PATH_RULE}, got "/\\r\\nX-Injected: 1".`,
    ],
    [
      'a domain with ";"',
      { cookie: { domain: 'example.test;Secure' } },
      'Session option "cookie.domain" must be a host name, got "example.test;Secure".',
    ],
    [
      'a name with a space',
      { name: 'my sid' },
      `Session option "name" ${NAME_RULE}, got "my sid".`,
    ],
    ['a key with a space', { key: 'my sid' }, `Session option "key" ${NAME_RULE}, got "my sid".`],
    [
      'an unknown sameSite',
      { cookie: { sameSite: 'sideways' as 'lax' } },
      `Session option "cookie.sameSite" must be 'lax', 'strict', 'none', 'auto', true or false, got "sideways".`,
    ],
    [
      'an unknown priority',
      { cookie: { priority: 'urgent' as 'low' } },
      `Session option "cookie.priority" must be 'low', 'medium' or 'high', got "urgent".`,
    ],
    [
      'an invalid Date as expires',
      { cookie: { expires: new Date(NaN) } },
      'Session option "cookie.expires" must be a valid Date, or null, got an invalid Date.',
    ],
    [
      'a __Host- name without Secure',
      { name: '__Host-sid', cookie: { secure: false } },
      `Session option "cookie.secure" must be true or 'auto' for a cookie named "__Host-sid" (browsers drop a __Host- cookie otherwise), got false.`,
    ],
    [
      'a __Host- name with another path',
      { name: '__Host-sid', cookie: { path: '/app' } },
      'Session option "cookie.path" must be "/" for a cookie named "__Host-sid" (browsers drop a __Host- cookie otherwise), got "/app".',
    ],
    [
      'a __Host- name with a domain',
      { name: '__Host-sid', cookie: { domain: 'example.test' } },
      'Session option "cookie.domain" must be left out for a cookie named "__Host-sid" (browsers drop a __Host- cookie otherwise), got "example.test".',
    ],
    [
      'a __Secure- name without Secure',
      { name: '__Secure-sid', cookie: { secure: false } },
      `Session option "cookie.secure" must be true or 'auto' for a cookie named "__Secure-sid" (browsers drop a __Secure- cookie otherwise), got false.`,
    ],
  ])('%s fails the start with a TypeError naming the option', async (_name, options, message) => {
    await expect(
      Test.createTestingModule({
        imports: [SessionModule.forRoot({ secret: SECRET, ...options })],
      }).compile(),
    ).rejects.toThrow(new TypeError(message));
  });
});
