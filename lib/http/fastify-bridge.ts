import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInRequest } from '../core/request-context';
import { commitBeforeSend, type ReplyHeaders } from './response-hold';

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
  addHook(
    name: 'onSend',
    hook: (
      request: unknown,
      reply: FastifyReplyLike,
      payload: unknown,
      done: (err: null, payload: unknown) => void,
    ) => Promise<void> | undefined,
  ): unknown;
}

interface FastifyReplyLike extends ReplyHeaders {
  raw: ServerResponse;
}

interface FastifyRequestLike {
  raw: IncomingMessage & Record<string, unknown>;
}

/**
 * Under Fastify, Nest runs middleware on the raw Node request. This commits the session in
 * Fastify's own `onSend`, makes `request.session` and
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
  // The session is committed before Fastify writes the head, so the reply goes out as Fastify
  // sends it, with the cookie among its headers. A reply written on the raw response, which
  // does not pass here, is held as under Express (see response-hold).
  instance.addHook('onSend', (_request, reply, payload, done) => {
    const committing = commitBeforeSend(reply.raw, reply);
    if (committing) return committing;
    done(null, payload);
    return undefined;
  });
  if (!requestContext) return;
  instance.addHook('preHandler', (request, _reply, done) => {
    runInRequest(request.raw, done);
  });
}
