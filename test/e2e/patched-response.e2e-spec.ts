import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '../../lib';
import { resolveSessionOptions } from '../../lib/core/options';
import { SessionEngine } from '../../lib/core/session-engine';
import { createSessionHandler } from '../../lib/http/session.handler';

type Method = (this: ServerResponse, ...args: unknown[]) => unknown;
type SessionRequest = IncomingMessage & { session: Record<string, unknown> };

/**
 * The hold gives a response whose prototype an app changed (as Express does) a prototype of its
 * own, and defines its members on Node's own response, or on one whose methods other code
 * already patched on the response itself. Either way, and with code that patches it after
 * the hold (as compression does), every patch still runs once, the held response still refuses
 * headers after `end()` as Node does, and the session is stored with its cookie sent.
 */
describe('a response that other code patches, before or after the hold', () => {
  let server: Server;
  let store: MemoryStore;
  let url: string;
  let mode = { prototype: false, before: false, after: false, noReq: false };
  /** What Express does to every response: its app's own prototype, on top of Node's. */
  const appResponse = Object.create(ServerResponse.prototype) as object;
  let seen: Record<string, unknown> = {};

  /** What on-headers does (express-session uses it): headers set just before the head goes out. */
  function patchBefore(res: ServerResponse): void {
    const writeHead = res.writeHead as Method;
    const setHeader = res.setHeader as Method;
    res.setHeader = function (this: ServerResponse, ...args: unknown[]) {
      seen.patchedSetHeader = ((seen.patchedSetHeader as number | undefined) ?? 0) + 1;
      return setHeader.apply(this, args);
    } as never;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      seen.beforeHead = ((seen.beforeHead as number | undefined) ?? 0) + 1;
      setHeader.call(this, 'X-Before', 'yes');
      return writeHead.apply(this, args);
    } as never;
  }

  /** What compression does: `end` wrapped on the response, after the session middleware. */
  function patchAfter(res: ServerResponse): void {
    const end = res.end as Method;
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      seen.afterEnd = ((seen.afterEnd as number | undefined) ?? 0) + 1;
      if (!this.headersSent) this.setHeader('X-After', 'yes');
      return end.apply(this, args);
    } as never;
  }

  function route(req: SessionRequest, res: ServerResponse): void {
    const session = req.session;
    if (req.url === '/login') session.user = 'ada';
    else session.count = ((session.count as number | undefined) ?? 0) + 1;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ count: session.count ?? 0 }));
    seen.headersSentAfterEnd = res.headersSent;
    seen.writableEndedAfterEnd = res.writableEnded;
    try {
      res.setHeader('X-Late', 'no');
      seen.lateSetHeader = 'accepted';
    } catch (err) {
      seen.lateSetHeader = (err as { code?: string }).code;
    }
  }

  beforeAll(async () => {
    store = new MemoryStore();
    const options = resolveSessionOptions({ secret: 'test secret: keyboard cat', store });
    const engine = new SessionEngine(options, { error: () => undefined, warn: () => undefined });
    const handler = createSessionHandler(engine, false);
    server = createServer((req, res) => {
      if (mode.prototype) Object.setPrototypeOf(res, appResponse);
      // A response that does not name its request (Node's does, as `res.req`).
      if (mode.noReq) (res as { req?: unknown }).req = undefined;
      if (mode.before) patchBefore(res);
      handler(req, res, () => {
        if (mode.after) patchAfter(res);
        route(req as SessionRequest, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    store.close();
  });

  it.each(
    [false, true]
      .flatMap((prototype) => [
        { prototype, before: false, after: false, noReq: false },
        { prototype, before: true, after: false, noReq: false },
        { prototype, before: false, after: true, noReq: false },
        { prototype, before: true, after: true, noReq: false },
      ])
      .concat([{ prototype: true, before: false, after: true, noReq: true }]),
  )(
    'app prototype: $prototype, patched before: $before, after: $after, no res.req: $noReq',
    async (which) => {
      mode = which;
      seen = {};
      const login = await fetch(`${url}/login`);
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie().find((line) => line.startsWith('connect.sid='));
      expect(cookie).toBeDefined();
      const pair = cookie!.split(';')[0]!;

      seen = {};
      const res = await fetch(`${url}/write`, { headers: { cookie: pair } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ count: 1 });
      expect(
        res.headers.getSetCookie().filter((line) => line.startsWith('connect.sid=')),
      ).toHaveLength(1);
      expect(res.headers.get('x-before')).toBe(which.before ? 'yes' : null);
      expect(res.headers.get('x-after')).toBe(which.after ? 'yes' : null);
      expect(res.headers.get('x-late')).toBeNull();
      expect(seen).toMatchObject({
        headersSentAfterEnd: true,
        writableEndedAfterEnd: true,
        lateSetHeader: 'ERR_HTTP_HEADERS_SENT',
      });
      if (which.before) expect(seen.beforeHead).toBe(1);
      if (which.after) expect(seen.afterEnd).toBe(1);
      const sid = decodeURIComponent(pair.slice('connect.sid='.length)).slice(2).split('.')[0]!;
      expect(await store.get(sid)).toMatchObject({ user: 'ada', count: 1 });
    },
  );
});
