import type { IncomingMessage } from 'node:http';
import type { RequestSession, SessionEngine } from '../core/session-engine';
import type { Session } from '../decorators/session.decorator';
import { attachSession, secureFor } from '../http/attach';

/** A socket's session once loaded, with whether its handshake cookie named a live session. */
export interface SocketSession {
  /** The session's owner: what its methods (`save()`, `reload()`, …) call into. */
  owner: RequestSession;
  /** The handshake carried a valid cookie whose session the store still holds. */
  found: boolean;
}

/** What the client is told when its connection is closed. */
export const SESSION_REQUIRED = 'Session required';
export const STORE_UNAVAILABLE = 'Session store unavailable';

/** The load of a handshake's session, kept on the handshake request: one per connection. */
const LOADING = Symbol('tessera:socket-session');

type Handshake = IncomingMessage & { [LOADING]?: Promise<SocketSession> };

/**
 * A socket's handshake request. socket.io keeps it as `socket.request`; ws hands it to the
 * connection event only, so when it is given here it is kept on the client as `request`, where
 * `@Session()` looks for it.
 */
export function handshakeOf(client: unknown, request?: unknown): IncomingMessage | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const socket = client as { request?: IncomingMessage };
  if (socket.request === undefined && isRequest(request)) {
    Object.defineProperty(socket, 'request', {
      value: request,
      writable: true,
      configurable: true,
    });
  }
  return socket.request;
}

/**
 * The session of a handshake's cookie, loaded on first call and the same object on every call
 * after, so every handler of a connection shares one session. A store failure is not kept: the
 * next call asks the store again. Rejects with `SessionStoreError`, logged here once.
 */
export function loadSocketSession(
  engine: SessionEngine,
  req: IncomingMessage,
): Promise<SocketSession> {
  const handshake = req as Handshake;
  const pending = handshake[LOADING];
  if (pending) return pending;
  const loading = open(engine, handshake);
  Object.defineProperty(handshake, LOADING, { value: loading, writable: true, configurable: true });
  loading.catch((err: Error) => {
    if (handshake[LOADING] === loading) handshake[LOADING] = undefined;
    engine.logger.error(`Could not load the session of a socket: ${err.message}`, err.stack);
  });
  return loading;
}

async function open(engine: SessionEngine, req: IncomingMessage): Promise<SocketSession> {
  const cookie = engine.verify(req);
  // The secure flag only shapes the cookie's attributes: no cookie is ever sent over a socket.
  const owner = await engine.load(req, secureFor(req, engine.options), cookie);
  // load() fills the session in only when the store has it; otherwise the session is a new one,
  // whose id (made on first read) is never the cookie's.
  const found = cookie !== undefined && owner.session.id === cookie.id;
  // As over HTTP; the engine keeps `req.session` in step on destroy() and regenerate(), so
  // `@Session()` follows.
  attachSession(req, owner);
  return { owner, found };
}

/**
 * The session of a socket handled by a `@SessionGateway()`, once loaded (it is by the time the
 * gateway's `handleConnection()` and message handlers run); `undefined` before, or after
 * `destroy()`. For code that has the client but no execution context.
 *
 * @publicApi
 * @example
 * ```ts
 * handleConnection(client: Socket) {
 *   if (getSocketSession<{ userId?: string }>(client)?.userId === undefined) client.disconnect(true);
 * }
 * ```
 */
export function getSocketSession<T extends object = object>(
  client: unknown,
): Session<T> | undefined {
  return (handshakeOf(client) as { session?: Session<T> } | undefined)?.session;
}

/**
 * Ends a connection with a reason the client can read: socket.io's disconnect (no automatic
 * reconnection follows it), or a WebSocket close frame with a policy (1008) or server-error
 * (1011) code.
 */
export function closeSocket(client: unknown, reason: string): void {
  const socket = client as {
    disconnect?: (close?: boolean) => void;
    close?: (code?: number, reason?: string) => void;
  };
  if (typeof socket.disconnect === 'function') socket.disconnect(true);
  else if (typeof socket.close === 'function')
    socket.close(reason === SESSION_REQUIRED ? 1008 : 1011, reason);
}

function isRequest(value: unknown): value is IncomingMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { headers?: unknown }).headers === 'object'
  );
}
