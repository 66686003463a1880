import { Inject } from '@nestjs/common';
import { SESSION_OPTIONS, SESSION_STORE } from '../session.constants';

/**
 * Injects the session store in use (`SESSION_STORE`).
 * @publicApi
 * @example
 * ```ts
 * constructor(@InjectSessionStore() private readonly store: SessionStore) {}
 * ```
 */
export const InjectSessionStore = (): PropertyDecorator & ParameterDecorator =>
  Inject(SESSION_STORE);

/**
 * Injects the resolved session options (`SESSION_OPTIONS`).
 * @publicApi
 */
export const InjectSessionOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(SESSION_OPTIONS);
