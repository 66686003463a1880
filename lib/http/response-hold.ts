import {
  OutgoingMessage,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';

/** What the hold asks of a request's session (see `RequestSession`). */
export interface SessionCommit {
  /** Before the status line: writes the session, resolves to the `Set-Cookie` to send. */
  commit(): Promise<string | undefined>;
  /** After the headers went out, before the end: writes what changed since, if anything. */
  commitLate(): Promise<void> | undefined;
}

/** Where the hold reports a failure (Nest's `Logger` fits). */
export interface HoldLogger {
  error(message: string, stack?: string): void;
}

type Args = unknown[];
type Method = (this: ServerResponse, ...args: Args) => unknown;

const HOLD = Symbol('tessera:response-hold');
type HeldResponse = ServerResponse & { [HOLD]?: ResponseHold };

/** Nothing has gone out yet, and nothing is held. */
const OPEN = 0;
/** A commit is running: the status line and body wait for it. */
const HOLDING = 1;
/** Everything is passed straight to Node. */
const RELEASED = 2;

const HEAD = 0;
const WRITE = 1;
const END = 2;
type Queued = [typeof HEAD | typeof WRITE | typeof END, Args];

/**
 * One response's hold: the store must have the session before the client sees any of the reply
 * (a redirect's next request always finds it), and the `Set-Cookie` that the commit decides
 * still goes out with the headers. A failed write becomes a 503, never a 2xx.
 *
 * The response's `writeHead`, `write` and `end` are replaced when the request comes in (not when
 * the session is first read: by then `res.end` may already have been looked up), with functions
 * shared by every response, so a request that never touches its session only pays three
 * property writes. While a commit runs, the calls keep Node's contract: they validate their
 * arguments and throw where Node throws, `headersSent` and `writableEnded` read as Node's would,
 * `write()` returns `false` past the high-water mark and `'drain'` follows the replay, and a
 * caller's headers object is copied, never changed.
 */
class ResponseHold {
  /** The request's session, once it exists: until then every call goes straight to Node. */
  session: SessionCommit | undefined = undefined;
  phase = OPEN;
  /** The handler has called `end()`. */
  ended = false;
  /** The commit started at `end()`, so nothing can have changed between it and the end. */
  startedAtEnd = false;
  queue: Queued[] = [];
  heldBytes = 0;
  /** A held `write()` returned false: `'drain'` is owed. */
  owesDrain = false;
  setHeader: Method | undefined;

  constructor(
    readonly logger: HoldLogger,
    readonly writeHead: Method,
    readonly write: Method,
    readonly end: Method,
  ) {}
}

/** Takes over `res`'s output calls, to be held once a session exists (see `holdFor`). */
export function installHold(res: ServerResponse, logger: HoldLogger): void {
  const held = res as HeldResponse;
  held[HOLD] = new ResponseHold(
    logger,
    res.writeHead as Method,
    res.write as Method,
    res.end as Method,
  );
  res.writeHead = heldWriteHead as ServerResponse['writeHead'];
  res.write = heldWrite as ServerResponse['write'];
  res.end = heldEnd as ServerResponse['end'];
}

/**
 * Ties the request's session to its response: from now on the response is held until the
 * session is committed. When the headers already went out (the session was first read after
 * them), only the late commit before the end is left to do.
 */
export function holdFor(res: ServerResponse, session: SessionCommit): void {
  const hold = (res as HeldResponse)[HOLD];
  if (!hold) return;
  hold.session = session;
  if (nativeHeadersSent(res)) hold.phase = RELEASED;
}

const headersSentGetter = Object.getOwnPropertyDescriptor(
  OutgoingMessage.prototype,
  'headersSent',
)!.get!;
const writableEndedGetter = Object.getOwnPropertyDescriptor(
  OutgoingMessage.prototype,
  'writableEnded',
)!.get!;

function nativeHeadersSent(res: ServerResponse): boolean {
  return headersSentGetter.call(res) as boolean;
}

function heldWriteHead(this: HeldResponse, ...args: Args): unknown {
  const hold = this[HOLD]!;
  if (hold.phase === RELEASED || !hold.session || nativeHeadersSent(this))
    return hold.writeHead.apply(this, args);
  if (hold.phase === HOLDING || hold.ended) throw headersSentError('write');
  applyHead(this, args);
  hold.queue.push([HEAD, []]);
  start(hold, this, false);
  return this;
}

function heldWrite(this: HeldResponse, ...args: Args): unknown {
  const hold = this[HOLD]!;
  if (!hold.session) return hold.write.apply(this, args);
  if (hold.phase === RELEASED || (hold.phase === OPEN && nativeHeadersSent(this))) {
    if (!hold.ended) return hold.write.apply(this, args);
  }
  const [chunk, encoding, callback] = args;
  validateChunk(chunk);
  if (hold.ended) {
    writeAfterEnd(this, typeof encoding === 'function' ? encoding : callback);
    return false;
  }
  hold.queue.push([WRITE, args]);
  hold.heldBytes += byteLength(chunk, encoding);
  if (hold.phase === OPEN) start(hold, this, false);
  if (hold.heldBytes < this.writableHighWaterMark) return true;
  hold.owesDrain = true;
  return false;
}

function heldEnd(this: HeldResponse, ...args: Args): unknown {
  const hold = this[HOLD]!;
  if (!hold.session) return hold.end.apply(this, args);
  const chunk = typeof args[0] === 'function' ? undefined : args[0];
  if (hold.ended) {
    // As Node: with data, a write after end; without, a no-op whose callback waits for 'finish'.
    const callback = args.find((arg) => typeof arg === 'function');
    if (chunk) writeAfterEnd(this, callback);
    else if (typeof callback === 'function') this.once('finish', callback as () => void);
    return this;
  }
  if (chunk) validateChunk(chunk);
  hold.ended = true;
  if (hold.phase === HOLDING) {
    hold.queue.push([END, args]);
    return this;
  }
  if (hold.phase === RELEASED || nativeHeadersSent(this)) {
    hold.phase = RELEASED;
    const late = lateCommit(hold);
    if (late === undefined) return hold.end.apply(this, args);
    hold.phase = HOLDING;
    hold.queue.push([END, args]);
    exposeHold(hold, this);
    late.then(
      () => release(hold, this, undefined),
      (err: unknown) => failAfterHeaders(hold, this, err),
    );
    return this;
  }
  hold.queue.push([END, args]);
  start(hold, this, true);
  return this;
}

/** Starts the commit; the response waits for it. */
function start(hold: ResponseHold, res: HeldResponse, atEnd: boolean): void {
  hold.phase = HOLDING;
  hold.startedAtEnd = atEnd;
  exposeHold(hold, res);
  let committing: Promise<string | undefined>;
  try {
    committing = hold.session!.commit();
  } catch (err) {
    committing = Promise.reject(err);
  }
  committing.then(
    (setCookie) => release(hold, res, setCookie),
    (err: unknown) => failBeforeHeaders(hold, res, err),
  );
}

/**
 * While held, the response reads as Node's would after the same calls: headers sent, ended
 * once `end()` was called, and headers refused.
 */
function exposeHold(hold: ResponseHold, res: HeldResponse): void {
  if (hold.setHeader) return;
  hold.setHeader = res.setHeader as Method;
  Object.defineProperties(res, HELD_STATE);
  const refuse = (name: 'setHeader' | 'appendHeader' | 'removeHeader', verb: string) => {
    const native = res[name] as Method;
    res[name] = function (this: HeldResponse, ...args: Args) {
      if (this[HOLD]!.phase === HOLDING) throw headersSentError(verb);
      return native.apply(this, args);
    } as never;
  };
  refuse('setHeader', 'set');
  refuse('appendHeader', 'append');
  refuse('removeHeader', 'remove');
  // Node's flushHeaders() writes the head only when it has not been written: while held it has,
  // as far as the handler can tell, so there is nothing to flush until the release.
  const flushHeaders = res.flushHeaders as Method;
  res.flushHeaders = function (this: HeldResponse, ...args: Args) {
    if (this[HOLD]!.phase !== HOLDING) return flushHeaders.apply(this, args);
  } as never;
}

const HELD_STATE: PropertyDescriptorMap = {
  headersSent: {
    get(this: HeldResponse) {
      return this[HOLD]!.phase === HOLDING || nativeHeadersSent(this);
    },
    configurable: true,
  },
  writableEnded: {
    get(this: HeldResponse) {
      return this[HOLD]!.ended || (writableEndedGetter.call(this) as boolean);
    },
    configurable: true,
  },
};

/** The commit is done: the `Set-Cookie` joins the headers, and the held calls go to Node in order. */
function release(hold: ResponseHold, res: HeldResponse, setCookie: string | undefined): void {
  hold.phase = RELEASED;
  try {
    if (setCookie) addSetCookie(res, hold.setHeader!, setCookie);
    replay(hold, res);
  } catch (err) {
    failReplay(hold, res, err);
  }
}

function replay(hold: ResponseHold, res: HeldResponse): void {
  const { queue } = hold;
  let lastWrite: unknown = true;
  while (queue.length > 0) {
    const [kind, args] = queue[0]!;
    if (kind === END && !hold.startedAtEnd) {
      // The handler may have changed the session while the body was going out.
      const late = lateCommit(hold);
      if (late !== undefined) {
        hold.phase = HOLDING;
        hold.startedAtEnd = true;
        late.then(
          () => release(hold, res, undefined),
          (err: unknown) => failAfterHeaders(hold, res, err),
        );
        return;
      }
    }
    queue.shift();
    if (kind === HEAD) hold.writeHead.call(res, res.statusCode);
    else if (kind === WRITE) lastWrite = hold.write.apply(res, args);
    else hold.end.apply(res, args);
  }
  if (hold.owesDrain) {
    hold.owesDrain = false;
    // A write Node refused says so with its own 'drain' later; otherwise it is ours to send.
    if (lastWrite !== false) process.nextTick(() => res.emit('drain'));
  }
}

function lateCommit(hold: ResponseHold): Promise<void> | undefined {
  try {
    return hold.session!.commitLate();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The store write failed before anything went out: the reply is that failure (503). */
function failBeforeHeaders(hold: ResponseHold, res: HeldResponse, err: unknown): void {
  hold.phase = RELEASED;
  hold.queue = [];
  // The reply is settled: what the handler still writes is a write after end, not a crash.
  hold.ended = true;
  const status = (err as { statusCode?: unknown }).statusCode;
  const code = typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
  hold.logger.error(`Could not commit the session: ${describe(err)}`, stackOf(err));
  replyError(hold, res, code);
}

/** The late write failed after the headers went out: the reply must not pass for complete. */
function failAfterHeaders(hold: ResponseHold, res: HeldResponse, err: unknown): void {
  hold.phase = RELEASED;
  hold.queue = [];
  // The reply is settled: what the handler still writes is a write after end, not a crash.
  hold.ended = true;
  hold.logger.error(
    `Could not commit the session before the end of a response whose headers were sent: ${describe(err)}`,
    stackOf(err),
  );
  res.destroy();
}

/** Node refused a replayed call (a header it would also have refused without the hold). */
function failReplay(hold: ResponseHold, res: HeldResponse, err: unknown): void {
  hold.queue = [];
  // The reply is settled: what the handler still writes is a write after end, not a crash.
  hold.ended = true;
  hold.logger.error(`Could not send the response: ${describe(err)}`, stackOf(err));
  replyError(hold, res, 500);
}

/** Answers `status` with a small JSON body in Nest's error shape, dropping what was set so far. */
function replyError(hold: ResponseHold, res: HeldResponse, status: number): void {
  try {
    if (nativeHeadersSent(res)) {
      // Too late to say so: cut the reply short rather than let it pass for a success.
      res.destroy();
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const message = status === 503 ? 'Service Unavailable' : 'Internal Server Error';
    const body = JSON.stringify({ statusCode: status, message });
    hold.writeHead.call(res, status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    hold.end.call(res, body);
  } catch (err) {
    hold.logger.error(`Could not send an error response: ${describe(err)}`, stackOf(err));
    res.destroy();
  }
}

/** Adds our cookie to the ones the response already sets, in a new list. */
function addSetCookie(res: ServerResponse, setHeader: Method, cookie: string): void {
  const current = res.getHeader('Set-Cookie');
  const list =
    current === undefined ? [] : Array.isArray(current) ? current.map(String) : [String(current)];
  list.push(cookie);
  setHeader.call(res, 'Set-Cookie', list);
}

/**
 * What Node's `writeHead()` does before it sends anything, step for step, done at the call so that
 * it throws where and as Node throws: the status is checked, the headers are validated and put on
 * the response, then the status message is checked. Node's own fast path (no header set before)
 * validates every header before it keeps any; so does this, before copying them onto the response.
 * The caller's object or array is never kept or changed.
 */
function applyHead(res: HeldResponse, [statusCode, reason, headers]: Args): void {
  const code = (statusCode as number) | 0;
  if (code < 100 || code > 999) {
    throw nodeError(
      RangeError,
      'ERR_HTTP_INVALID_STATUS_CODE',
      `Invalid status code: ${String(statusCode)}`,
    );
  }
  if (typeof reason === 'string') {
    res.statusMessage = reason;
  } else {
    if (!res.statusMessage) res.statusMessage = STATUS_CODES[code] ?? 'unknown';
    headers ??= reason;
  }
  res.statusCode = code;
  if (hasOutHeaders(res)) setProgressively(res, headers);
  else if (headers) setAtOnce(res, headers);
  if (INVALID_REASON.test(res.statusMessage))
    throw nodeError(TypeError, 'ERR_INVALID_CHAR', 'Invalid character in statusMessage');
}

/** Node's slow path: headers were set before, so these go through `setHeader` one by one. */
function setProgressively(res: ServerResponse, headers: unknown): void {
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0) throw invalidHeadersError();
    for (let n = 0; n < headers.length; n += 2) {
      const name = headers[n] as string;
      if (name) res.setHeader(name, headers[n + 1] as string);
    }
  } else if (headers) {
    const object = headers as OutgoingHttpHeaders;
    for (const name of Object.keys(object)) if (name) res.setHeader(name, object[name]!);
  }
}

/** Node's fast path: the headers are the whole set, each validated before any is kept. */
function setAtOnce(res: ServerResponse, headers: unknown): void {
  const pairs: [string, unknown][] = [];
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const entry of headers as unknown[][]) pairs.push([entry[0] as string, entry[1]]);
    } else {
      if (headers.length % 2 !== 0) throw invalidHeadersError();
      for (let n = 0; n < headers.length; n += 2)
        pairs.push([headers[n] as string, headers[n + 1]]);
    }
  } else {
    for (const name in headers as object) {
      if (Object.hasOwn(headers as object, name))
        pairs.push([name, (headers as Record<string, unknown>)[name]]);
    }
  }
  for (const [name, value] of pairs) {
    // Node's own checks, so the error is the one Node would throw.
    validateHeaderName(name);
    for (const item of Array.isArray(value) ? value : [value])
      validateHeaderValue(name, item as string);
  }
  // A raw list may repeat a name, and Node sends each line.
  for (const [name, value] of pairs) res.appendHeader(name, value as string | string[]);
}

/** Whether the response has had headers set before (Node's `kOutHeaders`, its slow path). */
function hasOutHeaders(res: ServerResponse): boolean {
  if (OUT_HEADERS) return Boolean((res as unknown as Record<symbol, unknown>)[OUT_HEADERS]);
  return res.getHeaderNames().length > 0;
}

const OUT_HEADERS = Object.getOwnPropertySymbols(new OutgoingMessage()).find(
  (symbol) => symbol.description === 'kOutHeaders',
);

function invalidHeadersError(): Error {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', "The argument 'headers' is invalid.");
}

/** What Node refuses in a status message. */
const INVALID_REASON = /[^\t\x20-\x7e\x80-\xff]/;

function validateChunk(chunk: unknown): void {
  if (chunk === null)
    throw nodeError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
    throw nodeError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
    );
  }
}

function byteLength(chunk: unknown, encoding: unknown): number {
  return typeof chunk === 'string'
    ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    : (chunk as Uint8Array).byteLength;
}

/**
 * A write after `end()`, reported as Node reports it: to the callback and as an `'error'` event,
 * on the next tick, unless the response was destroyed.
 */
function writeAfterEnd(res: ServerResponse, callback: unknown): void {
  const err = nodeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
  const report = typeof callback === 'function' ? (callback as (err: Error) => void) : undefined;
  if (res.destroyed) {
    if (report) process.nextTick(report, err);
    return;
  }
  process.nextTick(() => {
    report?.(err);
    if (!res.destroyed) res.emit('error', err);
  });
}

function headersSentError(verb: string): Error {
  return nodeError(
    Error,
    'ERR_HTTP_HEADERS_SENT',
    `Cannot ${verb} headers after they are sent to the client`,
  );
}

/** An error shaped as Node's own (same class, `code` and message), so callers can match it. */
function nodeError(
  Kind: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor,
  code: string,
  message: string,
): Error {
  return Object.assign(new Kind(message), { code });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stackOf(err: unknown): string | undefined {
  return err instanceof Error ? err.stack : undefined;
}
