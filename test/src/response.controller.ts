import { Controller, Get, Inject, Optional, Query, Redirect, Req, Res } from '@nestjs/common';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Session, SESSION_STORE } from '../../lib';
import { streamChunk } from '../support/raw-http';
import type { SlowStore } from '../support/slow-store';

type Data = Record<string, unknown>;
type RawRequest = IncomingMessage & { session?: Data & { id: string }; sessionID?: string };

/**
 * Routes that drive the raw Node response the way handlers do, for the response-path and fuzz
 * suites. Every route answers under its own path, where the session middleware holds the
 * response, and under `/native/…`, a path the test app's `ignore` list exempts from sessions:
 * the same handler on Node's own response, to compare with.
 *
 * What a handler saw (a call's return value, a code it caught, `headersSent` at some point) is
 * kept in `observations` under the request's `t` query parameter; the child process hands it to
 * the test over IPC, so reading it needs no HTTP request.
 */
export const observations = new Map<string, Data>();

/** Module-level header constants, shared by every request as an app's own constants would be. */
export const STATIC_HEADERS = {
  object: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Static': 'yes' },
  withCookie: { 'Content-Type': 'text/plain; charset=utf-8', 'Set-Cookie': 'theme=dark; Path=/' },
  array: ['Content-Type', 'text/plain; charset=utf-8', 'X-Static', 'yes'],
  pairs: [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['X-Static', 'yes'],
  ],
  frozenObject: Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8', 'X-Static': 'yes' }),
  frozenWithCookie: Object.freeze({
    'Content-Type': 'text/plain; charset=utf-8',
    'Set-Cookie': Object.freeze(['theme=dark; Path=/']),
  }),
  frozenArray: Object.freeze(['Content-Type', 'text/plain; charset=utf-8', 'X-Static', 'yes']),
  frozenPairs: Object.freeze([
    Object.freeze(['Content-Type', 'text/plain; charset=utf-8']),
    Object.freeze(['X-Static', 'yes']),
  ]),
};
export type StaticHeaders = keyof typeof STATIC_HEADERS;

/** A JSON copy of the constants as the app was built with them, to compare against later. */
export const STATIC_HEADERS_AT_START = JSON.stringify(STATIC_HEADERS);

/** Header values Node refuses. */
export const BAD_VALUES: Record<string, string> = {
  nonLatin1: 'поиск',
  crlf: 'a\r\nSet-Cookie: connect.sid=injected',
  lf: 'a\nb',
};

/** The raw Node request and response, under Express (the objects themselves) or Fastify. */
function raw(req: unknown, res: unknown): { rq: RawRequest; rs: ServerResponse } {
  const request = req as { raw?: RawRequest };
  const reply = res as { raw?: ServerResponse };
  return {
    rq: request.raw ?? (req as RawRequest),
    rs: reply.raw ?? (res as ServerResponse),
  };
}

function sessionOf(rq: RawRequest): Data & { id: string } {
  const session = rq.session;
  if (!session) throw new Error('this request has no session');
  return session;
}

function observe(token: string | undefined, values: Data): void {
  if (!token) return;
  observations.set(token, { ...observations.get(token), ...values });
}

function codeOf(err: unknown): string {
  return String((err as { code?: unknown }).code ?? (err as Error).message);
}

/** Waits for `'drain'`, or for the response to close, or gives up after `ms`. */
function drained(rs: ServerResponse, ms: number): Promise<'drain' | 'close' | 'timeout'> {
  return new Promise((resolve) => {
    const done = (how: 'drain' | 'close' | 'timeout') => {
      clearTimeout(timer);
      rs.off('drain', onDrain);
      rs.off('close', onClose);
      resolve(how);
    };
    const onDrain = () => done('drain');
    const onClose = () => done('close');
    const timer = setTimeout(() => done('timeout'), ms);
    rs.on('drain', onDrain);
    rs.on('close', onClose);
  });
}

/** One step of a fuzz program, run by `GET /fuzz` on the raw response. */
export type FuzzOp =
  | { op: 'writeHead'; status: number; headers?: FuzzHeaders }
  | { op: 'setHeader'; name: string; value: string | string[] }
  | { op: 'write'; data: string }
  | { op: 'flushHeaders' }
  | { op: 'end'; data?: string; change?: { key: string; value: unknown } }
  | { op: 'change'; key: string; value: unknown }
  | { op: 'read' }
  | { op: 'tick' }
  | { op: 'failNextWrite' };

export type FuzzHeaders =
  | { kind: 'object' | 'array' | 'pairs'; entries: [string, string][] }
  | { kind: 'static'; name: StaticHeaders };

function headersOf(spec: FuzzHeaders): OutgoingHttpHeaders | unknown[] {
  if (spec.kind === 'static') return STATIC_HEADERS[spec.name] as OutgoingHttpHeaders;
  if (spec.kind === 'object') return Object.fromEntries(spec.entries);
  if (spec.kind === 'array') return spec.entries.flat();
  return spec.entries.map((entry) => [...entry]);
}

@Controller()
export class ResponseController {
  constructor(@Optional() @Inject(SESSION_STORE) private readonly store?: SlowStore) {}

  /** Starts a session with some data in it. */
  @Get(['login', 'native/login'])
  login(@Session() session: Data & { id: string }) {
    session.user = 'someone';
    return { id: session.id };
  }

  /** Never touches the session. */
  @Get(['plain', 'native/plain'])
  plain() {
    return 'plain';
  }

  @Get(['read', 'native/read'])
  read(@Session() session: Data & { id: string }) {
    return { id: session.id, data: { ...session } };
  }

  // ---- 1. headers Node refuses -------------------------------------------------------------

  /** `writeHead` with a header value Node refuses (`?v=nonLatin1|crlf|lf`). */
  @Get(['bad-header/write-head', 'native/bad-header/write-head'])
  badWriteHead(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    if (q.change) sessionOf(rq).noted = q.change;
    rs.writeHead(200, { 'Content-Type': 'text/plain', 'X-Note': BAD_VALUES[q.v ?? 'nonLatin1'] });
    rs.end('must not be sent');
  }

  /** The framework's own way to set a header: Fastify's `reply.header()`, Express's `res.set()`. */
  @Get(['bad-header/framework', 'native/bad-header/framework'])
  badFrameworkHeader(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq } = raw(req, res);
    if (q.change) sessionOf(rq).noted = q.change;
    const value = BAD_VALUES[q.v ?? 'nonLatin1'];
    const reply = res as {
      raw?: unknown;
      header(name: string, value: string): { send(body: string): void };
      set(name: string, value: string): { send(body: string): void };
    };
    if (reply.raw) reply.header('X-Note', value).send('must not be sent');
    else reply.set('X-Note', value).send('must not be sent');
  }

  /** A redirect whose target is not Latin-1: Fastify sends it as is, Express encodes it. */
  @Get(['bad-header/redirect', 'native/bad-header/redirect'])
  @Redirect('/x?returnTo=/поиск', 302)
  badRedirect() {
    return undefined;
  }

  // ---- 2. constant headers -----------------------------------------------------------------

  /** Writes the session, then `writeHead(200, <module constant>)`. */
  @Get(['static', 'native/static'])
  staticHeaders(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    const headers = STATIC_HEADERS[q.kind as StaticHeaders];
    if (!headers) throw new Error(`no constant ${q.kind}`);
    let visits = 0;
    if (rq.session) {
      const session = sessionOf(rq);
      visits = session.visits = ((session.visits as number | undefined) ?? 0) + 1;
    }
    rs.writeHead(200, headers as OutgoingHttpHeaders);
    rs.end(String(visits));
  }

  // ---- 3. the session first read inside end's arguments -----------------------------------

  @Get(['views-in-end', 'native/views-in-end'])
  viewsInEnd(@Req() req: unknown, @Res() res: unknown) {
    const { rq, rs } = raw(req, res);
    rs.end(String((sessionOf(rq).views = ((sessionOf(rq).views as number) ?? 0) + 1)));
  }

  // ---- 4. a second end -----------------------------------------------------------------------

  /** `end('first')`, then `?second=end|end-empty|setHeader|writeHead|write`. */
  @Get(['double-end', 'native/double-end'])
  doubleEnd(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    if (q.change) sessionOf(rq).changed = q.change;
    rs.on('error', (err) => observe(q.t, { errorEvent: codeOf(err) }));
    rs.end('first');
    observe(q.t, { headersSent: rs.headersSent, writableEnded: rs.writableEnded });
    try {
      if (q.second === 'end') rs.end('second');
      else if (q.second === 'end-empty') rs.end();
      else if (q.second === 'setHeader') rs.setHeader('X-Late', '1');
      else if (q.second === 'writeHead') rs.writeHead(201);
      else if (q.second === 'write') observe(q.t, { writeReturned: rs.write('second') });
      observe(q.t, { secondThrew: null });
    } catch (err) {
      observe(q.t, { secondThrew: codeOf(err) });
    }
  }

  /** The framework's `send` twice: Express's `res.send`, Fastify's `reply.send`. */
  @Get(['double-send', 'native/double-send'])
  doubleSend(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    if (q.change) sessionOf(rq).changed = q.change;
    const reply = res as { send(body: string): unknown };
    reply.send('first');
    observe(q.t, { headersSent: rs.headersSent, writableEnded: rs.writableEnded });
    try {
      reply.send('second');
      observe(q.t, { secondThrew: null });
    } catch (err) {
      observe(q.t, { secondThrew: codeOf(err) });
    }
  }

  // ---- 5. backpressure -----------------------------------------------------------------------

  /** Changes the session, then streams `chunks` chunks of `size` bytes, minding `write()`. */
  @Get(['stream', 'native/stream'])
  async stream(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    const chunks = Number(q.chunks ?? 64);
    const size = Number(q.size ?? 65536);
    const sid = rq.session ? sessionOf(rq).id : undefined;
    if (rq.session) sessionOf(rq).streamed = q.t;
    const ackedBefore = sid && this.store ? this.store.statsOf(sid).acked : 0;
    const storeAnswered = () =>
      sid !== undefined && this.store !== undefined && this.store.statsOf(sid).acked > ackedBefore;
    let drains = 0;
    rs.on('drain', () => drains++);
    let bytes = 0;
    let firstFalse: Data | undefined;
    const waits: string[] = [];
    for (let i = 0; i < chunks; i++) {
      const ok = rs.write(streamChunk(i, size));
      bytes += size;
      if (ok) continue;
      firstFalse ??= { index: i, bytes, storeAnswered: storeAnswered() };
      const how = await drained(rs, 10_000);
      waits.push(how);
      if (how !== 'drain') break;
    }
    observe(q.t, {
      highWaterMark: rs.writableHighWaterMark,
      firstFalse: firstFalse ?? null,
      drainEvents: drains,
      waits,
      storeAnsweredAtEnd: storeAnswered(),
    });
    rs.end();
  }

  // ---- 6. a change after the first chunk --------------------------------------------------

  /** `write('a')`, then `session.x = v` (and `refuseWrite` with `?refuse=1`), then `end('b')`. */
  @Get(['change-after-chunk', 'native/change-after-chunk'])
  changeAfterChunk(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    if (q.before) sessionOf(rq).before = q.before;
    rs.write('a');
    const session = sessionOf(rq);
    session.x = q.v;
    if (q.refuse) session.refuseWrite = true;
    rs.end('b');
  }

  // ---- the fuzz program ----------------------------------------------------------------------

  /** Runs the base64url JSON program `p` on the raw response. */
  @Get(['fuzz', 'native/fuzz'])
  async fuzz(@Req() req: unknown, @Res() res: unknown, @Query() q: Record<string, string>) {
    const { rq, rs } = raw(req, res);
    const program = JSON.parse(Buffer.from(q.p, 'base64url').toString('utf8')) as FuzzOp[];
    const applied: Data = {};
    // Only a session the program touched: reading `sessionID` would make a lazy one. On the
    // native paths there is no session: a plain object stands in, so the program runs the same.
    let sessionId: string | undefined;
    let standIn: (Data & { id: string }) | undefined;
    const session = () => {
      const found = rq.session ?? (standIn ??= { id: 'stand-in' });
      if (found !== standIn) sessionId = found.id;
      return found;
    };
    const note = (values: Data) => observe(q.t, { applied, sessionId, ...values });
    const change = (key: string, value: unknown) => {
      session()[key] = value;
      applied[key] = value;
    };
    rs.on('error', (err) => note({ errorEvent: codeOf(err) }));
    let step = 0;
    let ended = false;
    try {
      for (; step < program.length; step++) {
        const op = program[step];
        switch (op.op) {
          case 'writeHead':
            if (op.headers) rs.writeHead(op.status, headersOf(op.headers) as OutgoingHttpHeaders);
            else rs.writeHead(op.status);
            break;
          case 'setHeader':
            rs.setHeader(op.name, op.value);
            break;
          case 'write':
            rs.write(op.data);
            break;
          case 'flushHeaders':
            rs.flushHeaders();
            break;
          case 'end': {
            // A change made while end's arguments are evaluated is made before the end: it counts.
            const first = !ended;
            rs.end(
              op.change && first ? (change(op.change.key, op.change.value), op.data) : op.data,
            );
            ended = true;
            break;
          }
          case 'change':
            if (!ended) change(op.key, op.value);
            break;
          case 'read':
            session();
            break;
          case 'tick':
            await new Promise((resolve) => setImmediate(resolve));
            break;
          case 'failNextWrite':
            if (!ended && session() !== standIn) this.store?.failNextWrite(session().id);
            break;
        }
      }
      note({ steps: step });
    } catch (err) {
      // As a real handler would: Nest answers it (a 500 unless something went out already).
      note({ steps: step, threw: codeOf(err) });
      throw err;
    }
  }
}
