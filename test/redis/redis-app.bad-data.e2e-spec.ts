import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { sessionCookie, setCookies } from '../support/app';
import { CLIENT_PLATFORMS, useRedisApp } from './redis-app.support';

// What another program (or an older version of the app) may have left under a session's key.
const BAD_DATA: [string, (admin: Redis, key: string) => Promise<unknown>, RegExp][] = [
  ['text that is not JSON', (admin, key) => admin.set(key, 'not json {'), /is not readable/],
  ['a JSON array', (admin, key) => admin.set(key, '[1,2]'), /not an object with a cookie/],
  ['JSON null', (admin, key) => admin.set(key, 'null'), /not an object with a cookie/],
  [
    'an object without a cookie',
    (admin, key) => admin.set(key, '{"user":"mallory"}'),
    /not an object with a cookie/,
  ],
  [
    'an object whose cookie is not an object',
    (admin, key) => admin.set(key, '{"user":"mallory","cookie":"nope"}'),
    /not an object with a cookie/,
  ],
  ['a hash, not a string', (admin, key) => admin.hset(key, 'user', 'mallory'), /not a string key/],
];

describe.each(CLIENT_PLATFORMS)(
  'bad data in Redis under a session key (%s, %s)',
  (kind, platform) => {
    // Nest's own Logger, as an app would pass it.
    const env = useRedisApp({
      kind,
      platform,
      admin: true,
      store: { logger: new Logger('RedisStore') },
    });
    let warned: string[];
    let failed: string[];

    beforeEach(() => {
      warned = [];
      failed = [];
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(function (this: Logger, message) {
        warned.push(String(message));
      });
      jest.spyOn(Logger.prototype, 'error').mockImplementation(function (this: Logger, message) {
        failed.push(String(message));
      });
    });

    afterEach(() => jest.restoreAllMocks());

    it.each(BAD_DATA)(
      'for %s, the request gets a fresh empty session (200) and a warning is logged',
      async (_what, write, warning) => {
        const cookie = sessionCookie(
          await env.t.http().post('/set').send({ user: 'ada' }).expect(200),
        );
        const id = (await env.t.http().get('/read').set('Cookie', cookie).expect(200)).body
          .id as string;
        await env.admin.del(`sess:${id}`);
        await write(env.admin, `sess:${id}`);

        const res = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
        expect(res.body.data).toEqual({});
        expect(res.body.id).not.toBe(id);
        expect(setCookies(res)).toEqual({});
        expect(warned).toHaveLength(1);
        expect(warned[0]).toMatch(warning);
        expect(warned[0]).toContain(`session ${id.slice(0, 6)}…`);
        expect(warned[0]).not.toContain(id);
        expect(failed).toEqual([]);

        // The fresh session is a working one, under a new id and key.
        const next = await env.t
          .http()
          .post('/set')
          .set('Cookie', cookie)
          .send({ again: 1 })
          .expect(200);
        const newCookie = sessionCookie(next);
        const read = await env.t.http().get('/read').set('Cookie', newCookie).expect(200);
        expect(read.body.data).toEqual({ again: 1 });
        expect(read.body.id).not.toBe(id);
        expect(JSON.parse((await env.admin.get(`sess:${read.body.id}`))!)).toEqual(
          expect.objectContaining({ again: 1 }),
        );
      },
    );
  },
);

describe('bad data in Redis, with the store’s default logger (console)', () => {
  const env = useRedisApp({ kind: 'ioredis', admin: true });

  it('warns on the console and serves a fresh session', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const cookie = sessionCookie(
        await env.t.http().post('/set').send({ user: 'ada' }).expect(200),
      );
      const id = (await env.t.http().get('/read').set('Cookie', cookie).expect(200)).body
        .id as string;
      await env.admin.set(`sess:${id}`, '{"cookie": {"originalMaxAge": 1000, ');
      const res = await env.t.http().get('/read').set('Cookie', cookie).expect(200);
      expect(res.body.data).toEqual({});
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain(
        `RedisStore: session ${id.slice(0, 6)}… is not readable, ignored`,
      );
    } finally {
      warn.mockRestore();
    }
  });
});
