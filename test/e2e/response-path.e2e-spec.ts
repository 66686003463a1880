import { PLATFORMS } from '../support/app';
import { ChildApp, NATIVE_PREFIX } from '../support/child-app';
import {
  cookieLines,
  cookiePair,
  describeResponse,
  headerValues,
  sessionIdOf,
  streamChunk,
  type RawResponse,
} from '../support/raw-http';
import type { WriteStats } from '../support/slow-store';

/**
 * Issue 9, items 1 to 6: the response hold must keep Node's response contract. Black-box: each
 * test drives a Nest app in a child process (test/support/child-app.ts, routes in
 * test/src/response.controller.ts) over raw sockets, so a crash is an observed failure, and
 * compares, where it can, with the same handler on Node's own response (the `/native/…` paths,
 * which the app's `ignore` list keeps free of sessions).
 */

let tokens = 0;
const token = (label: string) => `${label}-${process.pid}-${++tokens}`;

/** Fails with what the client got and how the process is doing. */
function fail(app: ChildApp, res: RawResponse | undefined, why: string): never {
  throw new Error(
    `${why}\n  response: ${res ? describeResponse(res) : 'none'}\n  ${app.describe()}`,
  );
}

function body(res: RawResponse): string {
  return res.parsed.kind === 'complete' ? res.parsed.body.toString() : '';
}

/** A complete response with `status`, or a failure that says what came instead. */
function expectComplete(app: ChildApp, res: RawResponse, status: number, what: string): void {
  if (res.parsed.kind !== 'complete' || res.parsed.status !== status)
    fail(app, res, `${what}: expected a complete, well-formed ${status}`);
}

/** The app is still running and still answers a plain request, after whatever came before. */
async function expectServing(app: ChildApp): Promise<void> {
  const res = await app.request('/plain', { timeoutMs: 5_000 });
  if (!app.alive() || res.parsed.kind !== 'complete' || body(res) !== 'plain')
    fail(app, res, 'the app must keep serving: a plain follow-up request');
  expect(app.exit()).toBeUndefined();
}

describe.each(PLATFORMS)('the response path (%s)', (platform) => {
  let app: ChildApp;

  beforeAll(async () => {
    app = await ChildApp.start(platform);
  }, 90_000);
  // A test that took the process down (or left it dying) must not take the next tests with it.
  beforeEach(async () => {
    if (app.alive()) {
      const ping = await app.request('/plain', { timeoutMs: 5_000 });
      if (ping.parsed.kind === 'complete' && body(ping) === 'plain') return;
      await app.stop();
    }
    app = await ChildApp.start(platform);
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
  });

  /** A client with a stored session: its `Cookie` header and the session id. */
  async function signIn(): Promise<{ cookie: string; sid: string }> {
    const res = await app.request('/login');
    const lines = cookieLines(res.parsed);
    if (res.parsed.kind !== 'complete' || lines.length !== 1)
      fail(app, res, 'signing in must set one session cookie');
    return { cookie: cookiePair(lines[0]), sid: sessionIdOf(lines[0]) };
  }

  const get = async (path: string, cookie?: string, timeoutMs = 10_000) => {
    const res = await app.request(path, { headers: cookie ? { Cookie: cookie } : {}, timeoutMs });
    // A response cut short may be a process on its way down: give it a moment to say so.
    if (res.parsed.kind !== 'complete') await app.exitedWithin(1_500);
    return res;
  };
  const observed = (t: string) =>
    app.control<Record<string, unknown> | null>({ cmd: 'observations', token: t });
  const stored = (sid: string) =>
    app.control<Record<string, unknown> | null>({ cmd: 'record', sid });
  const readData = async (cookie: string) => {
    const res = await get('/read', cookie);
    expectComplete(app, res, 200, 'GET /read');
    return (JSON.parse(body(res)) as { data: Record<string, unknown> }).data;
  };

  describe('1. a header Node refuses gives that request a 500, never a crash', () => {
    const variants = [
      {
        name: "raw writeHead(200, { 'X-Note': 'поиск' })",
        path: '/bad-header/write-head?v=nonLatin1',
      },
      {
        name: 'raw writeHead with a CR/LF in a header value',
        path: '/bad-header/write-head?v=crlf',
      },
      ...(platform === 'fastify'
        ? [
            { name: "reply.header('x-note', 'поиск').send()", path: '/bad-header/framework' },
            { name: "@Redirect('/x?returnTo=/поиск')", path: '/bad-header/redirect' },
          ]
        : [{ name: "res.set('X-Note', 'поиск').send()", path: '/bad-header/framework' }]),
    ];

    it.each(variants)(
      '$name: without a session (an ignored path) Node answers 500 and the app lives (the baseline)',
      async ({ path }) => {
        const { cookie } = await signIn();
        const res = await get(NATIVE_PREFIX + path, cookie);
        expectComplete(app, res, 500, `GET ${NATIVE_PREFIX}${path}`);
        await expectServing(app);
      },
    );

    it.each(variants)(
      '$name: with a session cookie, a session change, or a new session, a 500 and the app keeps serving',
      async ({ path }) => {
        const join = path.includes('?') ? '&' : '?';
        const { cookie } = await signIn();
        const cases = [
          { label: 'with a session cookie', url: path, cookie },
          {
            label: 'with a session cookie and a change',
            url: `${path}${join}change=${token('n')}`,
            cookie,
          },
          {
            label: 'without a cookie, the session made by a change',
            url: `${path}${join}change=${token('n')}`,
            cookie: undefined,
          },
          // The redirect route has no session change to make.
        ].filter(({ url }) => !url.startsWith('/bad-header/redirect') || !url.includes('change='));
        for (const c of cases) {
          const res = await get(c.url, c.cookie);
          await new Promise((resolve) => setImmediate(resolve));
          if (!app.alive()) fail(app, res, `GET ${c.url} (${c.label}) took the process down`);
          expectComplete(app, res, 500, `GET ${c.url} (${c.label})`);
          expect(headerValues(res.parsed, 'x-note')).toEqual([]);
          await expectServing(app);
        }
      },
    );
  });

  describe('2. headers passed to writeHead are never changed in place', () => {
    const kinds: [string, string][] = [
      ['object', 'a module-level object'],
      ['array', "a raw array ['Content-Type', 'text/plain; charset=utf-8', …]"],
      ['withCookie', "an object with its own 'Set-Cookie'"],
      ['frozenObject', 'a frozen object'],
      ['frozenArray', 'a frozen raw array'],
      ['frozenWithCookie', "a frozen object with its own 'Set-Cookie'"],
      // Node takes [[name, value], …] only while no header is set yet: Express has set
      // X-Powered-By by then, and Node refuses the form (the baseline below would say so).
      ...(platform === 'fastify'
        ? ([
            ['pairs', 'a raw array of [name, value] pairs'],
            ['frozenPairs', 'frozen [name, value] pairs'],
          ] as [string, string][])
        : []),
    ];

    it.each(kinds)(
      'writeHead(200, %s constant, that is %s): each visitor gets exactly one session cookie, its own, and the constant stays as it was',
      async (kind) => {
        const ownCookie = kind.toLowerCase().includes('cookie') ? ['theme=dark; Path=/'] : [];
        // Node's own response takes these headers: the baseline.
        const native = await get(`${NATIVE_PREFIX}/static?kind=${kind}`);
        expectComplete(app, native, 200, 'the native baseline');
        expect(
          headerValues(native.parsed, 'set-cookie').filter((l) => !l.startsWith('connect.sid=')),
        ).toEqual(ownCookie);
        const clients: { cookie: string; sid: string }[] = [];
        for (let visitor = 0; visitor < 3; visitor++) {
          const res = await get(`/static?kind=${kind}`);
          if (!app.alive())
            fail(
              app,
              res,
              `visitor ${visitor + 1} of writeHead(200, ${kind}) took the process down`,
            );
          expectComplete(app, res, 200, `visitor ${visitor + 1}`);
          expect(body(res)).toBe('1');
          const sessionLines = cookieLines(res.parsed);
          if (sessionLines.length !== 1)
            fail(
              app,
              res,
              `visitor ${visitor + 1} must get exactly one session cookie, got ${sessionLines.length}:\n    ${sessionLines.join('\n    ')}`,
            );
          const sid = sessionIdOf(sessionLines[0]);
          expect(clients.map((c) => c.sid)).not.toContain(sid);
          const others = headerValues(res.parsed, 'set-cookie').filter(
            (l) => !l.startsWith('connect.sid='),
          );
          expect(others).toEqual(ownCookie);
          clients.push({ cookie: cookiePair(sessionLines[0]), sid });
        }
        // Each cookie is its own session: a second visit counts on from its own first.
        for (const [i, client] of clients.entries()) {
          const res = await get(`/static?kind=${kind}`, client.cookie);
          expectComplete(app, res, 200, `visitor ${i + 1}, second visit`);
          expect(body(res)).toBe('2');
          expect(
            cookieLines(res.parsed)
              .map(sessionIdOf)
              .filter((sid) => sid !== client.sid),
          ).toEqual([]);
        }
        const constants = await app.control<{ atStart: string; now: string }>({
          cmd: 'constants',
        });
        const [now, atStart] = [constants.now, constants.atStart].map(
          (json) => (JSON.parse(json) as Record<string, unknown>)[kind],
        );
        expect(now).toEqual(atStart);
        await expectServing(app);
      },
    );
  });

  describe('3. the session first read inside the arguments of end()', () => {
    it("res.end(String(req.session.views = (req.session.views ?? 0) + 1)) without a cookie: a well-formed 200 with the session cookie and body '1', then 2, 3 with that cookie", async () => {
      const first = await get('/views-in-end');
      if (first.parsed.kind !== 'complete')
        fail(
          app,
          first,
          'the first response must be well-formed HTTP (status line, headers, body)',
        );
      expectComplete(app, first, 200, 'GET /views-in-end without a cookie');
      expect(body(first)).toBe('1');
      const lines = cookieLines(first.parsed);
      expect(lines).toHaveLength(1);
      const cookie = cookiePair(lines[0]);
      for (const views of ['2', '3']) {
        const next = await get('/views-in-end', cookie);
        expectComplete(app, next, 200, 'GET /views-in-end with the cookie');
        expect(body(next)).toBe(views);
      }
      await expectServing(app);
    });
  });

  describe('4. a second end() (or send, setHeader, writeHead, write after end)', () => {
    const seconds = [
      { second: 'end', call: "end('second')", threw: null },
      { second: 'end-empty', call: 'end()', threw: null },
      { second: 'setHeader', call: "setHeader('X-Late', '1')", threw: 'ERR_HTTP_HEADERS_SENT' },
      { second: 'writeHead', call: 'writeHead(201)', threw: 'ERR_HTTP_HEADERS_SENT' },
      { second: 'write', call: "write('second')", threw: null, writeReturned: false },
    ];
    const routes = [
      ...seconds.map((s) => ({
        ...s,
        name: `res.end('first'); res.${s.call}`,
        path: `/double-end?second=${s.second}`,
      })),
      platform === 'express'
        ? {
            name: "res.send('first'); res.send('second')",
            path: '/double-send?x=1',
            threw: 'ERR_HTTP_HEADERS_SENT',
          }
        : {
            name: "reply.send('first'); reply.send('second')",
            path: '/double-send?x=1',
            threw: null,
          },
    ];

    it.each(routes)(
      "$name with a session cookie: the first body whole, the second call behaves as on Node's own response, headersSent/writableEnded true after the first",
      async (route) => {
        const { cookie } = await signIn();
        // What Node's own response does (no session on /native): the contract to keep.
        const nativeToken = token('native');
        const native = await get(`${NATIVE_PREFIX}${route.path}&t=${nativeToken}`, cookie);
        expectComplete(app, native, 200, 'the native baseline');
        expect(body(native)).toBe('first');
        const nativeSeen = await observed(nativeToken);
        const expected: Record<string, unknown> = {
          headersSent: true,
          writableEnded: true,
          secondThrew: route.threw,
        };
        if ('writeReturned' in route) expected.writeReturned = route.writeReturned;
        expect(nativeSeen).toMatchObject(expected);

        for (const change of [undefined, token('changed')]) {
          const t = token('held');
          const url = `${route.path}&t=${t}${change ? `&change=${change}` : ''}`;
          const res = await get(url, cookie);
          await new Promise((resolve) => setImmediate(resolve));
          if (!app.alive()) fail(app, res, `GET ${url} took the process down`);
          if (res.parsed.kind !== 'complete' || body(res) !== 'first')
            fail(app, res, `GET ${url}: the client must get the first body whole and well-formed`);
          expectComplete(app, res, 200, `GET ${url}`);
          const seen = await observed(t);
          const { errorEvent: _nativeError, ...nativeCalls } = nativeSeen!;
          const { errorEvent: _heldError, ...heldCalls } = seen ?? {};
          expect(heldCalls).toEqual(nativeCalls);
          if (change) expect((await readData(cookie)).changed).toBe(change);
          await expectServing(app);
        }
      },
    );
  });

  describe('5. backpressure while the session is being written', () => {
    afterEach(async () => {
      if (app.alive()) await app.control({ cmd: 'writeDelay', ms: 0 });
    });

    it("with a store that takes 200 ms, 64 chunks of 64 KiB: write() returns false once more than writableHighWaterMark bytes are held, before the store answered, 'drain' follows, and every byte arrives in order", async () => {
      const chunks = 64;
      const size = 65536;
      const { cookie, sid } = await signIn();
      await app.control({ cmd: 'writeDelay', ms: 200 });
      const t = token('stream');
      const res = await get(`/stream?chunks=${chunks}&size=${size}&t=${t}`, cookie, 25_000);
      const seen = (await observed(t)) as {
        highWaterMark: number;
        firstFalse: { index: number; bytes: number; storeAnswered: boolean } | null;
        drainEvents: number;
        waits: string[];
      } | null;
      if (!seen) fail(app, res, 'the handler recorded nothing');
      if (!seen.firstFalse)
        fail(
          app,
          res,
          `write() never returned false: all ${chunks * size} bytes were taken while the store had not answered (writableHighWaterMark ${seen.highWaterMark})`,
        );
      expect(seen.firstFalse.storeAnswered).toBe(false);
      expect(seen.firstFalse.bytes).toBeLessThanOrEqual(seen.highWaterMark + size);
      expect(seen.waits.every((how) => how === 'drain')).toBe(true);
      expect(seen.drainEvents).toBeGreaterThanOrEqual(1);
      expectComplete(app, res, 200, 'the streamed response');
      const received = (res.parsed as { body: Buffer }).body;
      expect(received.length).toBe(chunks * size);
      const expected = Buffer.concat(
        Array.from({ length: chunks }, (_, i) => streamChunk(i, size)),
      );
      expect(received.equals(expected)).toBe(true);
      const stats = await app.control<WriteStats>({ cmd: 'stats', sid });
      expect(stats.refused).toBe(0);
      expect((await stored(sid))?.streamed).toBe(t);
      await expectServing(app);
    });
  });

  describe('6. a change made after the first chunk of the body', () => {
    it.each([
      ['nothing changed before the first chunk', ''],
      ['a change before the first chunk too', '&before=1'],
    ])(
      "res.write('a'); session.x = v; res.end('b') (%s): stored before the response ends, and the next request sees it",
      async (_label, before) => {
        const { cookie, sid } = await signIn();
        const v = token('x');
        const res = await get(`/change-after-chunk?v=${v}${before}`, cookie);
        expectComplete(app, res, 200, 'the response');
        expect(body(res)).toBe('ab');
        // The client has the whole response: the store must have the change already.
        const record = await stored(sid);
        if (record?.x !== v)
          fail(
            app,
            res,
            `the store has x = ${JSON.stringify(record?.x)} once the response ended, not ${JSON.stringify(v)}`,
          );
        expect((await readData(cookie)).x).toBe(v);
        await expectServing(app);
      },
    );

    it('a store that refuses the write carrying the change made after the first chunk: the client never gets a complete 2xx (the connection is cut short)', async () => {
      const { cookie, sid } = await signIn();
      const v = token('x');
      const res = await get(`/change-after-chunk?v=${v}&before=1&refuse=1`, cookie);
      const stats = await app.control<WriteStats>({ cmd: 'stats', sid });
      const p = res.parsed;
      if (p.kind === 'complete' && p.status >= 200 && p.status < 300)
        fail(
          app,
          res,
          `a complete ${p.status} although the change made after the first chunk never reached the store (store: ${JSON.stringify(stats)})`,
        );
      expect(p.kind).not.toBe('malformed');
      expect((await stored(sid))?.x).toBeUndefined();
      await expectServing(app);
    });
  });
});
