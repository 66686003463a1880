import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInRequest } from '../core/request-context';

/** The little of a Fastify instance the bridge uses (Fastify itself is never imported). */
export interface FastifyInstanceLike {
  /** middie's, which Nest registers when it creates the app. */
  use(
    handler: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void,
  ): unknown;
  hasRequestDecorator(name: string): boolean;
  decorateRequest(
    name: string,
    value: {
      getter(this: FastifyRequestLike): unknown;
      setter(this: FastifyRequestLike, value: unknown): void;
    },
  ): unknown;
  addHook(
    name: 'preHandler',
    hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void,
  ): unknown;
}

interface FastifyRequestLike {
  raw: IncomingMessage & Record<string, unknown>;
}

/**
 * Under Fastify, Nest runs middleware on the raw Node request. This makes `request.session` and
 * `request.sessionID` on the `FastifyRequest` the raw request's own (so `@Req()`, guards and
 * `@nestjs/passport` see them), and re-enters the request context for the route: Fastify reads
 * the body between the middleware and the handler, on events that do not carry the context.
 */
export function bridgeFastify(instance: FastifyInstanceLike, requestContext = true): void {
  for (const name of ['session', 'sessionID']) {
    if (instance.hasRequestDecorator(name)) continue;
    instance.decorateRequest(name, {
      getter() {
        return this.raw[name];
      },
      setter(value) {
        this.raw[name] = value;
      },
    });
  }
  if (!requestContext) return;
  instance.addHook('preHandler', (request, _reply, done) => {
    runInRequest(request.raw, done);
  });
}
