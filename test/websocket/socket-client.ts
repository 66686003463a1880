import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { Transport } from '../src/websocket/session.gateway';

/** One message from the server: a handler's answer or Nest's `exception` event. */
export interface Reply<T = unknown> {
  event: string;
  data: T;
}

/** A real client of either transport, talking to the suites' gateways. */
export interface TestSocket {
  /** Sends `event` and resolves with the next `<event>:done` or `exception` message. */
  send<T = unknown>(event: string, data?: unknown): Promise<Reply<T>>;
  /** Resolves when the server ends the connection: the ws close code, or socket.io's reason. */
  readonly ended: Promise<{ code?: number; reason: string }>;
  close(): Promise<void>;
}

/**
 * Connects to the gateway `name` (a socket.io namespace or a ws path; `''` for the default one) with `cookie` as the
 * handshake's `Cookie` header. Rejects with the server's message when socket.io refuses the
 * handshake; a ws connection is always opened, and refused by being closed.
 */
export function connectSocket(
  transport: Transport,
  url: string,
  name: string,
  cookie?: string,
): Promise<TestSocket> {
  return transport === 'ws' ? connectWs(url, name, cookie) : connectIo(url, name, cookie);
}

/** Messages in arrival order, handed to the waiters in the order they asked. */
class Inbox {
  private readonly queued: Reply[] = [];
  private readonly waiting: ((reply: Reply) => void)[] = [];

  push(reply: Reply): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(reply);
    else this.queued.push(reply);
  }

  next(): Promise<Reply> {
    const queued = this.queued.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

function connectIo(url: string, name: string, cookie?: string): Promise<TestSocket> {
  // Default transports (long-polling first, then the upgrade), as a browser connects.
  const socket: Socket = io(`${url}/${name}`, {
    extraHeaders: cookie ? { cookie } : {},
    reconnection: false,
    forceNew: true,
  });
  const inbox = new Inbox();
  socket.onAny((event: string, data: unknown) => inbox.push({ event, data }));
  const ended = new Promise<{ reason: string }>((resolve) =>
    socket.on('disconnect', (reason) => resolve({ reason })),
  );
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({
        send: (event, data) => {
          socket.emit(event, data);
          return inbox.next() as Promise<Reply<never>>;
        },
        ended,
        close: async () => {
          if (socket.connected) {
            socket.close();
            await ended;
          }
        },
      }),
    );
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

function connectWs(url: string, name: string, cookie?: string): Promise<TestSocket> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/${name}`, {
    headers: cookie ? { cookie } : {},
  });
  const inbox = new Inbox();
  socket.on('message', (raw) => inbox.push(JSON.parse(String(raw)) as Reply));
  const ended = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        send: (event, data) => {
          socket.send(JSON.stringify({ event, data }));
          return inbox.next() as Promise<Reply<never>>;
        },
        ended,
        close: async () => {
          if (socket.readyState !== WebSocket.CLOSED) {
            socket.close();
            await ended;
          }
        },
      }),
    );
    socket.once('error', reject);
  });
}
