/**
 * `SessionService` was asked for "the current session" where there is none: outside an HTTP
 * request, or on a path the session middleware ignores.
 * @publicApi
 */
export class SessionContextError extends Error {
  override readonly name = 'SessionContextError';
}
