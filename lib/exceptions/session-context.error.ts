/**
 * `SessionService` was asked for "the current session" where there is none: outside an HTTP
 * request, or on a path the session middleware ignores.
 * @publicApi
 */
export class SessionContextError extends Error {
  override readonly name = 'SessionContextError';
}

/**
 * A session method was used after the session was destroyed, or `reload()` found the session
 * gone from the store.
 * @publicApi
 */
export class SessionGoneError extends Error {
  override readonly name = 'SessionGoneError';
}
