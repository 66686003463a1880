import { connect } from 'node:net';

/**
 * HTTP/1.1 on a bare socket, for tests that must see exactly what went over the wire: a client
 * library would hide a body sent before the status line, or bytes after the end of a response.
 */

/** A response, as this module's parser reads the bytes that came back. */
export type ParsedResponse =
  | {
      /** A status line, headers, and a body that matches its framing. */
      kind: 'complete';
      status: number;
      headers: [string, string][];
      body: Buffer;
    }
  | {
      /** The connection closed (or the client gave up) before a complete response. */
      kind: 'incomplete';
      why: string;
      status?: number;
      headers?: [string, string][];
      body?: Buffer;
    }
  | {
      /** Bytes that are not a well-formed response. */
      kind: 'malformed';
      why: string;
    };

export interface RawResponse {
  /** Every byte the server sent. */
  bytes: Buffer;
  parsed: ParsedResponse;
  /** Whether the client gave up waiting (`timeoutMs`) and closed the socket itself. */
  timedOut: boolean;
  /** A socket error (ECONNRESET, say), if any. */
  error?: string;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** How long to wait for the server to close the connection; default 10 s. */
  timeoutMs?: number;
}

/**
 * Sends one request with `Connection: close` to 127.0.0.1:`port` and collects everything the
 * server sends until it closes the connection (or `timeoutMs` passes).
 */
export function rawRequest(
  port: number,
  path: string,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const method = options.method ?? 'GET';
  const head = [
    `${method} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: close',
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let timedOut = false;
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(received);
      const parsed = parseResponse(bytes, method === 'HEAD');
      if (parsed.kind === 'incomplete' && timedOut) parsed.why += ' (the client timed out)';
      if (parsed.kind === 'incomplete' && error) parsed.why += ` (socket error ${error})`;
      resolve({ bytes, parsed, timedOut, error });
    });
  });
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Reads `bytes` as one HTTP/1.1 response on a connection that closed after it. A complete
 * response must account for every byte: anything after its end is malformed too.
 */
export function parseResponse(bytes: Buffer, headRequest = false): ParsedResponse {
  if (bytes.length === 0) return { kind: 'incomplete', why: 'no bytes at all' };
  const headEnd = bytes.indexOf('\r\n\r\n');
  const headText = (headEnd === -1 ? bytes : bytes.subarray(0, headEnd)).toString('latin1');
  const lines = headText.split('\r\n');
  // Only a prefix of a status line is still a response that was cut short; anything else is not.
  if (headEnd === -1 && lines.length === 1) {
    return 'HTTP/1.1 '.startsWith(lines[0].slice(0, 9)) || /^HTTP\/1\.[01] /.test(lines[0])
      ? { kind: 'incomplete', why: 'cut inside the status line' }
      : { kind: 'malformed', why: `does not start with a status line: ${preview(bytes)}` };
  }
  const match = STATUS_LINE.exec(lines[0]);
  if (!match) return { kind: 'malformed', why: `no status line: ${preview(bytes)}` };
  const status = Number(match[1]);
  const headers: [string, string][] = [];
  const complete = headEnd !== -1;
  for (const [i, line] of lines.slice(1).entries()) {
    if (!complete && i === lines.length - 2) break; // the last line may be cut short
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name) || /[\r\n\0]/.test(line)) {
      return { kind: 'malformed', why: `bad header line ${JSON.stringify(line)}` };
    }
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  if (!complete) return { kind: 'incomplete', why: 'cut inside the headers', status, headers };
  if (status >= 100 && status < 200) {
    return { kind: 'malformed', why: `an interim ${status} response, which no test asks for` };
  }
  const rest = bytes.subarray(headEnd + 4);
  const values = (name: string) =>
    headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
  const encoding = values('transfer-encoding');
  const length = values('content-length');
  if (encoding.length > 0 && length.length > 0) {
    return { kind: 'malformed', why: 'both Transfer-Encoding and Content-Length' };
  }
  if (headRequest || status === 204 || status === 304) {
    return rest.length === 0
      ? { kind: 'complete', status, headers, body: rest }
      : { kind: 'malformed', why: `a body on a ${status}: ${preview(rest)}` };
  }
  if (encoding.length > 0) {
    if (encoding.join(',').trim().toLowerCase() !== 'chunked') {
      return { kind: 'malformed', why: `Transfer-Encoding ${encoding.join(',')}` };
    }
    return parseChunked(rest, status, headers);
  }
  if (length.length > 0) {
    if (new Set(length).size !== 1 || !/^\d+$/.test(length[0])) {
      return { kind: 'malformed', why: `Content-Length ${length.join(', ')}` };
    }
    const expected = Number(length[0]);
    if (rest.length < expected) {
      return {
        kind: 'incomplete',
        why: `Content-Length ${expected} but the connection closed after ${rest.length} bytes`,
        status,
        headers,
        body: rest,
      };
    }
    if (rest.length > expected) {
      return {
        kind: 'malformed',
        why: `${rest.length - expected} bytes after the body: ${preview(rest.subarray(expected))}`,
      };
    }
    return { kind: 'complete', status, headers, body: rest };
  }
  // No framing: the body runs to the close of the connection (HTTP/1.1, section 6.3).
  return { kind: 'complete', status, headers, body: rest };
}

function parseChunked(rest: Buffer, status: number, headers: [string, string][]): ParsedResponse {
  const body: Buffer[] = [];
  let at = 0;
  const cut = (why: string): ParsedResponse => ({
    kind: 'incomplete',
    why,
    status,
    headers,
    body: Buffer.concat(body),
  });
  // Bounded: every round consumes at least the size line's CRLF.
  for (;;) {
    const lineEnd = rest.indexOf('\r\n', at);
    if (lineEnd === -1) return cut('cut inside a chunk size line');
    const sizeText = rest.subarray(at, lineEnd).toString('latin1').split(';')[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
      return { kind: 'malformed', why: `bad chunk size line ${JSON.stringify(sizeText)}` };
    }
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, then an empty line.
      for (;;) {
        const end = rest.indexOf('\r\n', at);
        if (end === -1) return cut('cut inside the trailers');
        const trailer = rest.subarray(at, end).toString('latin1');
        at = end + 2;
        if (trailer === '') break;
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(trailer)) {
          return { kind: 'malformed', why: `bad trailer ${JSON.stringify(trailer)}` };
        }
      }
      if (at !== rest.length) {
        return {
          kind: 'malformed',
          why: `${rest.length - at} bytes after the last chunk: ${preview(rest.subarray(at))}`,
        };
      }
      return { kind: 'complete', status, headers, body: Buffer.concat(body) };
    }
    if (rest.length < at + size) {
      body.push(rest.subarray(at));
      return cut('cut inside a chunk');
    }
    body.push(rest.subarray(at, at + size));
    at += size;
    if (rest.length < at + 2) return cut('cut after a chunk');
    if (rest[at] !== 0x0d || rest[at + 1] !== 0x0a) {
      return { kind: 'malformed', why: `no CRLF after a chunk: ${preview(rest.subarray(at))}` };
    }
    at += 2;
  }
}

function preview(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, 120).toString('latin1'));
}

/** Every value of header `name` (case-insensitive) of a parsed response. */
export function headerValues(res: ParsedResponse, name: string): string[] {
  if (res.kind === 'malformed' || !res.headers) return [];
  const lower = name.toLowerCase();
  return res.headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
}

/** The `Set-Cookie` values for cookie `name`. */
export function cookieLines(res: ParsedResponse, name = 'connect.sid'): string[] {
  return headerValues(res, 'set-cookie').filter((line) => line.startsWith(`${name}=`));
}

/** The session id a `connect.sid=…` Set-Cookie line names (`s:<id>.<signature>`), or its raw value. */
export function sessionIdOf(line: string): string {
  const value = decodeURIComponent(line.slice(line.indexOf('=') + 1).split(';')[0]);
  if (!value.startsWith('s:')) return value;
  const dot = value.lastIndexOf('.');
  return value.slice(2, dot === -1 ? undefined : dot);
}

/** The `name=value` pair of a Set-Cookie line, for a `Cookie` request header. */
export function cookiePair(line: string): string {
  return line.split(';')[0];
}

/** A one-line account of a response, for assertion messages. */
export function describeResponse(res: RawResponse): string {
  const p = res.parsed;
  if (p.kind === 'malformed') return `malformed: ${p.why}`;
  if (p.kind === 'incomplete') return `incomplete (${p.why}), status ${p.status ?? 'none'}`;
  return `complete ${p.status}, ${p.body.length} bytes: ${JSON.stringify(p.body.subarray(0, 80).toString())}`;
}

/** The bytes of chunk `i` of a test stream: every chunk different, so order is checked too. */
export function streamChunk(i: number, size: number): Buffer {
  const chunk = Buffer.alloc(size, (i * 7 + 1) & 0xff);
  chunk.writeUInt32BE(i, 0);
  return chunk;
}
