import { Inject, type Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { IncomingMessage } from 'node:http';
import type { SessionEngine } from '../core/session-engine';
import { SESSION_ENGINE } from '../session.constants';
import {
  resolveSessionGatewayOptions,
  SESSION_GATEWAY_OPTIONS,
  type ResolvedSessionGatewayOptions,
  type SessionGatewayOptions,
} from './session-gateway.options';
import {
  closeSocket,
  handshakeOf,
  loadSocketSession,
  SESSION_REQUIRED,
  STORE_UNAVAILABLE,
} from './socket-session';
import { WsSessionGuard } from './ws-session.guard';
import { WsSessionInterceptor } from './ws-session.interceptor';

/** Where the gateway instance receives the engine (property injection: no constructor change). */
const ENGINE = Symbol('tessera:gateway-engine');

type Gateway = {
  [ENGINE]: SessionEngine;
  afterInit?: (server: unknown, ...rest: unknown[]) => unknown;
  handleConnection?: (client: unknown, ...rest: unknown[]) => unknown;
};

/** The part of a socket.io `Server` or `Namespace` used here (socket.io is never imported). */
interface SocketIoServerLike {
  use(
    middleware: (socket: { request: IncomingMessage }, next: (err?: Error) => void) => void,
  ): unknown;
}

/**
 * Gives a WebSocket gateway the session of each connection's handshake cookie: `@Session()` in
 * its `@SubscribeMessage()` handlers (and `getSession(context)` in guards,
 * `getSocketSession(client)` in `handleConnection()`), on socket.io and on ws alike.
 *
 * One session object per connection, loaded from the store when the client connects (before
 * the gateway's own `handleConnection()` runs). Changes are written by `session.save()`, never
 * automatically: a socket has no end of request. `reload()` reads changes made over HTTP since.
 * No cookie can be set over a socket, so `regenerate()` gives the connection a session that no
 * cookie names (the browser's next HTTP request starts afresh), and `destroy()` removes the
 * session for the browser too, without clearing its cookie. Log in and out over HTTP.
 *
 * A connection without a valid session cookie gets an empty session or is refused, as
 * `missingSession` says. A store that fails while a client connects ends that connection
 * (socket.io: `connect_error`; ws: close code 1011), and one that fails in a handler answers
 * that message with `Session store unavailable`; the app keeps serving.
 *
 * @publicApi
 * @example
 * ```ts
 * @WebSocketGateway()
 * @SessionGateway({ missingSession: 'refuse' })
 * export class ChatGateway {
 *   @SubscribeMessage('whoami')
 *   whoami(@Session() session: Session) {
 *     return { event: 'whoami', data: session.userId ?? null };
 *   }
 * }
 * ```
 */
export function SessionGateway(options: SessionGatewayOptions = {}): ClassDecorator {
  const resolved = resolveSessionGatewayOptions(options);
  return (target) => {
    const gateway = target as unknown as Type<Gateway>;
    Reflect.defineMetadata(SESSION_GATEWAY_OPTIONS, resolved, gateway);
    Inject(SESSION_ENGINE)(gateway.prototype, ENGINE);
    // First among the gateway's guards and interceptors, whichever side of them this decorator
    // is written on, so that the app's own read a loaded session (and SessionService finds it).
    prepend(GUARDS_METADATA, WsSessionGuard, gateway);
    prepend(INTERCEPTORS_METADATA, WsSessionInterceptor, gateway);
    loadOnHandshake(gateway.prototype, resolved);
    loadOnConnection(gateway.prototype, resolved);
  };
}

/**
 * On socket.io, loads the session in the server's handshake middleware: a refused client never
 * joins (it gets `connect_error`), and no message can come before its session.
 */
function loadOnHandshake(prototype: Gateway, options: ResolvedSessionGatewayOptions): void {
  const afterInit = prototype.afterInit;
  prototype.afterInit = function (this: Gateway, server: unknown, ...rest: unknown[]) {
    if (isSocketIoServer(server)) {
      const engine = this[ENGINE];
      server.use((socket, next) => {
        loadSocketSession(engine, socket.request).then(
          ({ found }) =>
            next(
              !found && options.missingSession === 'refuse'
                ? new Error(SESSION_REQUIRED)
                : undefined,
            ),
          () => next(new Error(STORE_UNAVAILABLE)),
        );
      });
    }
    return afterInit?.call(this, server, ...rest);
  };
}

/**
 * On ws, keeps the handshake request (which ws hands to the connection event only) and loads
 * the session, closing the connection when it is refused; on socket.io the session is loaded
 * already. Then runs the gateway's own `handleConnection()`, if any, with the session in place.
 */
function loadOnConnection(prototype: Gateway, options: ResolvedSessionGatewayOptions): void {
  const handleConnection = prototype.handleConnection;
  prototype.handleConnection = async function (
    this: Gateway,
    client: unknown,
    ...rest: unknown[]
  ): Promise<unknown> {
    const req = handshakeOf(client, rest[0]);
    if (req) {
      try {
        const { found } = await loadSocketSession(this[ENGINE], req);
        if (!found && options.missingSession === 'refuse')
          return closeSocket(client, SESSION_REQUIRED);
      } catch {
        return closeSocket(client, STORE_UNAVAILABLE);
      }
    }
    return handleConnection?.call(this, client, ...rest);
  };
}

function prepend(key: string, value: unknown, target: object): void {
  const list = (Reflect.getMetadata(key, target) as unknown[] | undefined) ?? [];
  Reflect.defineMetadata(key, [value, ...list], target);
}

function isSocketIoServer(server: unknown): server is SocketIoServerLike {
  return (
    typeof server === 'object' &&
    server !== null &&
    typeof (server as { use?: unknown }).use === 'function'
  );
}
