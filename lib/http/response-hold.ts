import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Method = (...args: unknown[]) => unknown;

/**
 * Holds a response back until `commit` has finished, so that the store has the session before
 * the client sees any of the reply (a redirect's next request always finds it), and the
 * `Set-Cookie` that `commit` decides still goes out with the headers.
 *
 * `writeHead`, `write` and `end` are taken over on this one response: the status line and
 * chunks are kept, and replayed in order once `commit` resolves. When it rejects and nothing has
 * gone out yet, `fail` answers instead. Works on the raw Node response, so on Express and
 * Fastify alike.
 */
export function holdResponse(
  res: ServerResponse,
  commit: () => Promise<string | undefined>,
  fail: (err: unknown) => void,
): void {
  const original = { writeHead: res.writeHead, write: res.write, end: res.end } as Record<
    'writeHead' | 'write' | 'end',
    Method
  >;
  let head: unknown[] | undefined;
  const chunks: unknown[][] = [];
  let committing: Promise<boolean> | undefined;

  const release = () => {
    res.writeHead = original.writeHead as ServerResponse['writeHead'];
    res.write = original.write as ServerResponse['write'];
    res.end = original.end as ServerResponse['end'];
  };

  const run = (): Promise<boolean> =>
    (committing ??= commit().then(
      (setCookie) => {
        release();
        if (setCookie) addSetCookie(res, head, setCookie);
        if (head) original.writeHead.apply(res, head);
        for (const chunk of chunks) original.write.apply(res, chunk);
        return true;
      },
      (err: unknown) => {
        release();
        fail(err);
        return false;
      },
    ));

  res.writeHead = function heldWriteHead(this: ServerResponse, ...args: unknown[]) {
    head = args;
    return this;
  } as ServerResponse['writeHead'];
  res.write = function heldWrite(...args: unknown[]) {
    chunks.push(args);
    void run();
    return true;
  } as ServerResponse['write'];
  res.end = function heldEnd(this: ServerResponse, ...args: unknown[]) {
    void run().then((ok) => {
      if (ok) original.end.apply(res, args);
    });
    return this;
  } as ServerResponse['end'];
}

/** Adds our cookie to what the response already sets, wherever the other cookies are. */
function addSetCookie(res: ServerResponse, head: unknown[] | undefined, cookie: string): void {
  const headers = head?.find((arg, i) => i > 0 && typeof arg === 'object' && arg !== null) as
    OutgoingHttpHeaders | unknown[] | undefined;
  if (Array.isArray(headers)) {
    // writeHead's raw form: [name, value, name, value, …] or [[name, value], …].
    if (Array.isArray(headers[0])) headers.push(['Set-Cookie', cookie]);
    else headers.push('Set-Cookie', cookie);
    return;
  }
  if (headers) {
    const name = Object.keys(headers).find((key) => key.toLowerCase() === 'set-cookie');
    if (name) {
      headers[name] = [...toList(headers[name]), cookie];
      return;
    }
  }
  res.setHeader('Set-Cookie', [...toList(res.getHeader('Set-Cookie')), cookie]);
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Answers `status` with a small JSON body in Nest's error shape, dropping what was set so far. */
export function replyError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    // Too late to say so: cut the reply short rather than let it pass for a success.
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const body = JSON.stringify({ statusCode: status, message });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
