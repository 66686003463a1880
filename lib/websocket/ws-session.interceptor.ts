import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { catchError, throwError, type Observable } from 'rxjs';
import { runInRequest } from '../core/request-context';
import type { SessionEngine } from '../core/session-engine';
import { SessionStoreError } from '../exceptions/session-store.error';
import { SESSION_ENGINE } from '../session.constants';
import { handshakeOf, STORE_UNAVAILABLE } from './socket-session';

/**
 * Runs a message handler in its socket's request context, so that `SessionService` finds the
 * socket's session as it finds a request's, and answers a store failure in the handler (a
 * `save()` that did not reach the store) with `Session store unavailable` rather than the
 * anonymous `Internal server error`, the cause going to the log as over HTTP.
 */
@Injectable()
export class WsSessionInterceptor implements NestInterceptor {
  constructor(@Inject(SESSION_ENGINE) private readonly engine: SessionEngine) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'ws') return next.handle();
    const req = handshakeOf(context.switchToWs().getClient<unknown>());
    // handle() binds the handler to the async context it is called in.
    const handled = req ? runInRequest(req, () => next.handle()) : next.handle();
    return handled.pipe(
      catchError((err: unknown) => {
        if (!(err instanceof SessionStoreError)) return throwError(() => err);
        this.engine.logger.error(
          `Session store failed in a message handler: ${err.message}`,
          err.stack,
        );
        return throwError(() => new WsException(STORE_UNAVAILABLE));
      }),
    );
  }
}
