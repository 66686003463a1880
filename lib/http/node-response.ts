import {
  OutgoingMessage,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';

// What Node's own response does at the call, done the same way for a held response: the checks
// and errors of writeHead() and write(), so that a held response throws where and as Node's
// would. Kept apart from the hold itself, which decides when the calls reach Node.

type Args = unknown[];
type Method = (this: ServerResponse, ...args: Args) => unknown;

/**
 * What Node's `writeHead()` does before it sends anything, step for step, done at the call so that
 * it throws where and as Node throws: the status is checked, the headers are validated and put on
 * the response, then the status message is checked. Node's own fast path (no header set before)
 * validates every header before it keeps any; so does this, before copying them onto the response.
 * The caller's object or array is never kept or changed.
 */
export function applyHead(res: ServerResponse, [statusCode, reason, headers]: Args): void {
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

export function validateChunk(chunk: unknown): void {
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

export function byteLength(chunk: unknown, encoding: unknown): number {
  return typeof chunk === 'string'
    ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    : (chunk as Uint8Array).byteLength;
}

/**
 * A write after `end()`, reported as Node reports it: to the callback and as an `'error'` event,
 * on the next tick, unless the response was destroyed.
 */
export function writeAfterEnd(res: ServerResponse, callback: unknown): void {
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

export function headersSentError(verb: string): Error {
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

/** Adds our cookie to the ones the response already sets, in a new list. */
export function addSetCookie(res: ServerResponse, setHeader: Method, cookie: string): void {
  const current = res.getHeader('Set-Cookie');
  const list =
    current === undefined ? [] : Array.isArray(current) ? current.map(String) : [String(current)];
  list.push(cookie);
  setHeader.call(res, 'Set-Cookie', list);
}

/** Answers `status` with a small JSON body in Nest's error shape, dropping what was set so far. */
export function replyError(
  res: ServerResponse,
  status: number,
  writeHead: Method,
  end: Method,
  logger: { error(message: string, stack?: string): void },
): void {
  try {
    if (res.headersSent) {
      // Too late to say so: cut the reply short rather than let it pass for a success.
      res.destroy();
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const message = status === 503 ? 'Service Unavailable' : 'Internal Server Error';
    const body = JSON.stringify({ statusCode: status, message });
    writeHead.call(res, status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    end.call(res, body);
  } catch (err) {
    logger.error(
      `Could not send an error response: ${err instanceof Error ? err.message : String(err)}`,
      err instanceof Error ? err.stack : undefined,
    );
    res.destroy();
  }
}

const headersSentGetter = Object.getOwnPropertyDescriptor(
  OutgoingMessage.prototype,
  'headersSent',
)!.get!;
const writableEndedGetter = Object.getOwnPropertyDescriptor(
  OutgoingMessage.prototype,
  'writableEnded',
)!.get!;

/** Node's own `headersSent`, whatever the response's own property says while held. */
export function nativeHeadersSent(res: ServerResponse): boolean {
  return headersSentGetter.call(res) as boolean;
}

/** Node's own `writableEnded`. */
export function nativeWritableEnded(res: ServerResponse): boolean {
  return writableEndedGetter.call(res) as boolean;
}
