/**
 * The resolved session options (every default applied): inject with `@InjectSessionOptions()`.
 * @publicApi
 */
export const SESSION_OPTIONS = Symbol('session:options');

/**
 * The session store in use: inject with `@InjectSessionStore()`.
 * @publicApi
 */
export const SESSION_STORE = Symbol('session:store');

/** The core engine the middleware and `SessionService` share. Internal. */
export const SESSION_ENGINE = Symbol('session:engine');
