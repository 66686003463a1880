import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionEngine } from './core/session-engine';
import { createSessionHandler } from './http/session.handler';
import { SESSION_ENGINE } from './session.constants';

/** Nest's handle on the session middleware; the work is in `createSessionHandler`. */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  readonly use: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

  constructor(@Inject(SESSION_ENGINE) engine: SessionEngine) {
    this.use = createSessionHandler(engine);
  }
}
