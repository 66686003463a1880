import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import type { SessionEngine } from '../core/session-engine';
import { SESSION_ENGINE } from '../session.constants';
import {
  handshakeOf,
  loadSocketSession,
  SESSION_REQUIRED,
  STORE_UNAVAILABLE,
  type SocketSession,
} from './socket-session';
import {
  SESSION_GATEWAY_OPTIONS,
  type ResolvedSessionGatewayOptions,
} from './session-gateway.options';

/**
 * Makes sure a message's socket has its session before anything reads it: waits for the load
 * that the connection started (a message can arrive while the store is still answering), or
 * starts it. `@SessionGateway()` puts this guard first among the gateway's own; register it
 * yourself only to run it before global guards (`APP_GUARD`) that read the session.
 *
 * Lets every message through, with two exceptions, each answered with an `exception` event:
 * `Session required` for a socket without a valid session cookie on a gateway with
 * `missingSession: 'refuse'`, and `Session store unavailable` when the store fails (the next
 * message tries it again). Contexts other than WebSocket pass untouched.
 *
 * @publicApi
 * @example
 * ```ts
 * providers: [
 *   { provide: APP_GUARD, useClass: WsSessionGuard },
 *   { provide: APP_GUARD, useClass: SignedInGuard },
 * ]
 * ```
 */
@Injectable()
export class WsSessionGuard implements CanActivate {
  constructor(
    @Inject(SESSION_ENGINE) private readonly engine: SessionEngine,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'ws') return true;
    const req = handshakeOf(context.switchToWs().getClient<unknown>());
    const options = this.reflector.get<ResolvedSessionGatewayOptions | undefined>(
      SESSION_GATEWAY_OPTIONS,
      context.getClass(),
    );
    if (!req) {
      // A ws client of a gateway without @SessionGateway() (this guard being global): no
      // handshake to read, no session.
      if (!options) return true;
      throw new Error(
        `@SessionGateway() on ${context.getClass().name} saw no handshake request for this ws ` +
          'client: write handleConnection() as a method, not as an arrow-function property, ' +
          'so that the decorator can take the request from it',
      );
    }
    let session: SocketSession;
    try {
      session = await loadSocketSession(this.engine, req);
    } catch {
      throw new WsException(STORE_UNAVAILABLE);
    }
    // The connection is being closed already; this answers a message that raced the close.
    if (!session.found && options?.missingSession === 'refuse') {
      throw new WsException(SESSION_REQUIRED);
    }
    return true;
  }
}
