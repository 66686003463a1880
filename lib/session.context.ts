import type { Type } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import { SessionService } from './session.service';

/** What Nest keeps for each provider, controller and injectable, as far as this reads it. */
interface Wrapper {
  metatype?: unknown;
  inject?: unknown[] | null;
}

/**
 * Whether anything in the app can ask `SessionService` for the current session, which needs the
 * request context (`AsyncLocalStorage`): a provider, controller, guard, interceptor, resolver or
 * gateway that injects `SessionService` by its constructor, a property, or a factory's `inject`.
 * Nothing else needs the context, and on Node 20 merely having one makes every promise in the
 * process slower (`AsyncLocalStorage` hooks them all once it is used), so it is left off then.
 * An app that reaches `SessionService` otherwise (`app.get(SessionService)` at request time, say)
 * says so with `requestContext: true`.
 */
export function injectsSessionService(container: ModulesContainer): boolean {
  for (const module of container.values()) {
    const wrappers = [
      ...module.providers.values(),
      ...module.controllers.values(),
      ...module.injectables.values(),
      ...module.middlewares.values(),
    ] as Wrapper[];
    for (const wrapper of wrappers) {
      if (wrapper.metatype === SessionService) continue;
      if (wrapper.inject?.some(isSessionService)) return true;
      if (typeof wrapper.metatype === 'function' && injectedInto(wrapper.metatype as Type))
        return true;
    }
  }
  return false;
}

function injectedInto(type: Type): boolean {
  const byType = (Reflect.getMetadata('design:paramtypes', type) as unknown[] | undefined) ?? [];
  const byToken = (Reflect.getMetadata('self:paramtypes', type) as { param: unknown }[]) ?? [];
  const properties =
    (Reflect.getMetadata('self:properties_metadata', type) as { type: unknown }[]) ?? [];
  return (
    byType.some(isSessionService) ||
    byToken.some(({ param }) => isSessionService(param)) ||
    properties.some(({ type: token }) => isSessionService(token))
  );
}

function isSessionService(token: unknown): boolean {
  if (token === SessionService) return true;
  // `inject: [{ token: SessionService, optional: true }]`, and forwardRef(() => SessionService).
  const object = token as { token?: unknown; forwardRef?: () => unknown } | null;
  if (typeof object !== 'object' || object === null) return false;
  return object.token === SessionService || object.forwardRef?.() === SessionService;
}
