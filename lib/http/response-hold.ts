import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  exposeHold,
  HOLD,
  HOLDING,
  keepHold,
  holdOf,
  OPEN,
  RELEASED,
  rootHold,
  takeOver,
  type HeldOutput,
} from './held-state';
import {
  addSetCookie,
  applyHead,
  byteLength,
  headersSentError,
  nativeHeadersSent,
  replyError,
  validateChunk,
  writeAfterEnd,
} from './node-response';

/** What the hold asks of a request's session (see `RequestSession`). */
export interface SessionCommit {
  /** Whether `commit()` has anything to do; `false` lets the response go without waiting. */
  commitDue(): boolean;
  /** Before the status line: writes the session, resolves to the `Set-Cookie` to send. */
  commit(): Promise<string | undefined>;
  /** After the headers went out, before the end: writes what changed since, if anything. */
  commitLate(): Promise<void> | undefined;
  /** Once committed: the session header to send beside the cookie (the `header` option). */
  readonly sessionHeader?: readonly [name: string, value: string] | undefined;
}

/** Where the hold reports a failure (Nest's `Logger` fits). */
export interface HoldLogger {
  error(message: string, stack?: string): void;
}

type Args = unknown[];
type Method = (this: ServerResponse, ...args: Args) => unknown;

type HeldResponse = ServerResponse & { [HOLD]?: ResponseHold };

const [HEAD, WRITE, END] = [0, 1, 2] as const;
type Queued = [typeof HEAD | typeof WRITE | typeof END, Args];

/**
 * One response's hold: the store must have the session before the client sees any of the reply
 * (a redirect's next request always finds it), and the `Set-Cookie` that the commit decides
 * still goes out with the headers. A failed write becomes a 503, never a 2xx.
 *
 * The response's `writeHead`, `write` and `end` are replaced when the request comes in (not when
 * the session is first read: by then `res.end` may already have been looked up), with functions
 * shared by every response, so a request that never touches its session only pays three
 * property writes, or nothing where its framework's root prototype holds it (see `takeOver`).
 * While a commit runs, the calls keep Node's contract: they validate their
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
  /**
   * The framework's own send is under way and the commit runs before it (`commitBeforeSend`):
   * to the handler, the reply reads as sent and ended, as it would on Node's own response.
   */
  sending = false;
  /** The commit started at `end()`, so nothing can have changed between it and the end. */
  startedAtEnd = false;
  queue: Queued[] = [];
  heldBytes = 0;
  /** A held `write()` returned false: `'drain'` is owed. */
  owesDrain = false;
  /** Node's `setHeader`, kept when the hold is exposed: the release sets the cookie with it. */
  setHeader: Method | undefined;

  constructor(
    readonly logger: HoldLogger,
    readonly writeHead: Method,
    readonly write: Method,
    readonly end: Method,
    /** The response's prototype carries the held members (see `takeOver`). */
    readonly shared: boolean,
  ) {}
}

/**
 * Takes over `res`'s output calls, to be held once a session exists (see `holdFor`). A response
 * its framework's root prototype holds (Express's) gets nothing until then: the root's members
 * look for the hold when they are called, not when they are looked up, so `res.end(req.session…)`
 * is held all the same, and a request that never makes a session allocates nothing here.
 */
export function installHold(res: ServerResponse, logger: HoldLogger): void {
  const held = res as HeldResponse;
  const { native, shared } = takeOver(held, HELD_OUTPUT);
  if (shared) return;
  held[HOLD] = new ResponseHold(logger, native.writeHead, native.write, native.end, false);
}

/**
 * Ties the request's session to its response: from now on the response is held until the
 * session is committed. When the headers already went out (the session was first read after
 * them), only the late commit before the end is left to do.
 */
export function holdFor(
  req: IncomingMessage,
  res: ServerResponse,
  session: SessionCommit,
  logger: HoldLogger,
): void {
  const held = res as HeldResponse;
  let hold = held[HOLD];
  if (!hold) {
    // Taken over through its root (see installHold): the hold is made now. A response the root
    // could not find it from (it moved to a chain the root cannot hold, or `res.req` is not its
    // request) is taken over on its own, as it can still be.
    const root = res.req === req ? rootHold(held, HELD_OUTPUT) : undefined;
    const { native, shared } = root ?? takeOver(held, HELD_OUTPUT, true);
    hold = new ResponseHold(logger, native.writeHead, native.write, native.end, shared);
    keepHold(res, hold);
  }
  hold.session = session;
  if (nativeHeadersSent(res)) hold.phase = RELEASED;
}

/** The headers of a framework's reply, which it writes with the head (Fastify's reply fits). */
export interface ReplyHeaders {
  hasHeader(name: string): boolean;
  header(name: string, value: string): unknown;
}

/**
 * Commits the session before a framework writes the head itself (Fastify's `onSend`): the
 * commit runs while the reply is still the framework's, so nothing is queued, exposed or
 * replayed, and the cookie goes into the reply's own headers, which the framework writes with the
 * head. `undefined` when there is nothing to commit, or when the hold already
 * took over; the hold then does whatever is left, as for any response.
 *
 * The promise resolves once the session is stored and its cookie added. When the store fails,
 * the error reply (503) is sent here and the promise never settles: the framework's own send
 * must not follow it.
 */
export function commitBeforeSend(
  res: ServerResponse,
  reply: ReplyHeaders,
): Promise<void> | undefined {
  const hold = holdOf<ResponseHold>(res);
  if (!hold?.session || hold.phase !== OPEN || hold.ended || nativeHeadersSent(res)) return;
  if (!commitDue(hold)) {
    // Nothing runs between this and the framework's writeHead: no need to ask again there.
    hold.phase = RELEASED;
    return;
  }
  // The framework's calls are not expected before this settles; any that come are held.
  hold.phase = HOLDING;
  hold.startedAtEnd = true;
  hold.sending = true;
  exposeHold(hold, res);
  const committing = new Promise<string | undefined>((resolve) => resolve(hold.session!.commit()));
  return committing.then(
    (setCookie) => {
      // `sending` stays until the framework writes the head: until then the reply must still
      // read as sent, or the framework (Fastify, when an async handler settles) sends again.
      hold.phase = RELEASED;
      if (setCookie) addCookie(res, reply, setCookie);
      const header = hold.session!.sessionHeader;
      if (header) reply.header(header[0], header[1]);
      if (hold.queue.length > 0) replay(hold, res as HeldResponse);
    },
    (err: unknown) => {
      hold.sending = false;
      failBeforeHeaders(hold, res as HeldResponse, err);
      return new Promise<void>(() => undefined);
    },
  );
}

/**
 * The cookie joins the reply's own `Set-Cookie` list. When only the raw response sets cookies
 * (a middleware's), it joins those instead: a `Set-Cookie` of the reply's would replace them
 * when the framework writes the head.
 */
function addCookie(res: ServerResponse, reply: ReplyHeaders, setCookie: string): void {
  if (!reply.hasHeader('set-cookie') && res.hasHeader('set-cookie'))
    addSetCookie(res, res.setHeader as Method, setCookie);
  else reply.header('set-cookie', setCookie);
}

function heldWriteHead(this: HeldResponse, ...args: Args): unknown {
  const hold = holdOf<ResponseHold>(this)!;
  if (hold.phase === RELEASED || !hold.session || nativeHeadersSent(this)) {
    // The framework's send, committed before it, now writes the head (see commitBeforeSend).
    hold.sending = false;
    return hold.writeHead.apply(this, args);
  }
  if (hold.phase === HOLDING || hold.ended) throw headersSentError('write');
  applyHead(this, args);
  if (!commitDue(hold)) {
    hold.phase = RELEASED;
    return hold.writeHead.call(this, this.statusCode);
  }
  hold.queue.push([HEAD, []]);
  start(hold, this, false);
  return this;
}

function heldWrite(this: HeldResponse, ...args: Args): unknown {
  const hold = holdOf<ResponseHold>(this)!;
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
  if (hold.phase === OPEN && !commitDue(hold)) {
    hold.phase = RELEASED;
    return hold.write.apply(this, args);
  }
  hold.queue.push([WRITE, args]);
  hold.heldBytes += byteLength(chunk, encoding);
  if (hold.phase === OPEN) start(hold, this, false);
  if (hold.heldBytes < this.writableHighWaterMark) return true;
  hold.owesDrain = true;
  return false;
}

function heldEnd(this: HeldResponse, ...args: Args): unknown {
  const hold = holdOf<ResponseHold>(this)!;
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
  if (!commitDue(hold)) {
    // An unchanged read: nothing to wait for, the end goes to Node as it is.
    hold.phase = RELEASED;
    return hold.end.apply(this, args);
  }
  hold.queue.push([END, args]);
  start(hold, this, true);
  return this;
}

const HELD_OUTPUT: HeldOutput = {
  writeHead: heldWriteHead as Method,
  write: heldWrite as Method,
  end: heldEnd as Method,
};

/**
 * Whether the session has anything to commit before the head goes out. Asked synchronously at
 * the first output call, so that a request that changed nothing is never held; a session that
 * cannot tell (its data cannot be serialised) is committed, and fails there as it should.
 */
function commitDue(hold: ResponseHold): boolean {
  try {
    return hold.session!.commitDue();
  } catch {
    return true;
  }
}

/** Starts the commit; the response waits for it. */
function start(hold: ResponseHold, res: HeldResponse, atEnd: boolean): void {
  hold.phase = HOLDING;
  hold.startedAtEnd = atEnd;
  exposeHold(hold, res);
  // A commit that throws instead of rejecting is a rejection all the same.
  const committing = new Promise<string | undefined>((resolve) => resolve(hold.session!.commit()));
  committing.then(
    (setCookie) => release(hold, res, setCookie),
    (err: unknown) => failBeforeHeaders(hold, res, err),
  );
}

/** The commit is done: the `Set-Cookie` joins the headers, and the held calls go to Node in order. */
function release(hold: ResponseHold, res: HeldResponse, setCookie: string | undefined): void {
  hold.phase = RELEASED;
  try {
    if (setCookie) addSetCookie(res, hold.setHeader!, setCookie);
    const header = hold.session!.sessionHeader;
    if (header) hold.setHeader!.call(res, header[0], header[1]);
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
  replyError(res, code, hold.writeHead, hold.end, hold.logger);
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
  replyError(res, 500, hold.writeHead, hold.end, hold.logger);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stackOf(err: unknown): string | undefined {
  return err instanceof Error ? err.stack : undefined;
}
