/**
 * A store call failed or did not answer within `storeTimeout`. Carries the HTTP status 503 in
 * the shape Nest's exception filter and Express's error handler both read (`status`,
 * `statusCode`, `expose: false`), so an unhandled one answers `503 Service Unavailable` without
 * revealing the cause to the client. The cause is in `cause` and in the log.
 *
 * @publicApi
 */
export class SessionStoreError extends Error {
  override readonly name: string = 'SessionStoreError';
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = false;

  constructor(
    /** The store method that failed: `get`, `set`, `patch`, `touch`, `destroy`. */
    readonly operation: string,
    cause: unknown,
    message = `Session store ${operation}() failed: ${describe(cause)}`,
  ) {
    super(message, { cause });
  }
}

/**
 * The session could not be loaded because its store is unavailable; thrown when a handler
 * reads such a request's session (a request that never reads it is served as usual).
 * @publicApi
 */
export class SessionUnavailableError extends SessionStoreError {
  override readonly name = 'SessionUnavailableError';
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
