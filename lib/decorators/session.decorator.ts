import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { SessionData, SessionObject } from '../core/session';

/**
 * The session as handlers see it: its `id`, `cookie` and methods, the app's `SessionData`, and
 * the handler's own type for the data.
 * @publicApi
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Session<T extends object = {}> = SessionObject & Partial<SessionData> & T;

/**
 * The request's session from any execution context: HTTP (Express or Fastify), GraphQL (when
 * the GraphQL context carries `req`), WebSocket (the handshake request). For guards and
 * interceptors, which have a context but no parameters.
 *
 * @publicApi
 * @example
 * ```ts
 * canActivate(context: ExecutionContext) {
 *   return getSession(context)?.userId !== undefined;
 * }
 * ```
 */
export function getSession<T extends object = object>(
  context: ExecutionContext,
): Session<T> | undefined {
  const req = requestOf(context) as
    { session?: Session<T>; raw?: { session?: Session<T> } } | undefined;
  return req?.session ?? req?.raw?.session;
}

function requestOf(context: ExecutionContext): unknown {
  switch (context.getType<string>()) {
    case 'http':
      return context.switchToHttp().getRequest();
    case 'graphql': {
      const gqlContext = context.getArgByIndex(2) as
        { req?: unknown; request?: unknown } | undefined;
      return gqlContext?.req ?? gqlContext?.request;
    }
    case 'ws': {
      const client = context.switchToWs().getClient() as
        { request?: unknown; handshake?: unknown } | undefined;
      return client?.request;
    }
    default:
      return undefined;
  }
}

/**
 * Injects the request's session into a handler parameter. Import it from `@tessera/session`:
 * it replaces the `@Session()` of `@nestjs/common`, and also works on Fastify, in GraphQL
 * resolvers and in WebSocket gateways.
 *
 * @publicApi
 * @example
 * ```ts
 * @Get()
 * views(@Session() session: Session<{ views?: number }>) {
 *   session.views = (session.views ?? 0) + 1;
 *   return { views: session.views };
 * }
 * ```
 */
export const Session: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => getSession(context),
);
