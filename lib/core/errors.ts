/**
 * The errors the core raises. They live here, with the code that throws them, so that the core
 * depends on nothing of ours; `lib/exceptions` re-exports them for apps.
 */

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
    message = `Session store ${operation}() failed: ${describeCause(cause)}`,
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

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * A value put in the session cannot be stored as JSON (a function, a Symbol, a BigInt, a Map,
 * a circular structure…). Raised instead of letting `JSON.stringify` drop or mangle it silently.
 * @publicApi
 */
export class SessionSerializationError extends TypeError {
  override readonly name = 'SessionSerializationError';

  constructor(
    /** Where the value sits, e.g. `cart.items[2]`. */
    readonly path: string,
    reason: string,
  ) {
    super(`Session value "${path}" cannot be stored as JSON: ${reason}`);
  }
}

/**
 * A handler assigned a session key that is one of the session's own members (`id`, `cookie`,
 * `save`, …), `__proto__` or `constructor`, or one of Tessera's internal keys. Refused at the
 * assignment: such a key would shadow a method, take over the session's id or cookie, or be
 * stored and never read back.
 * @publicApi
 */
export class SessionReservedKeyError extends TypeError {
  override readonly name = 'SessionReservedKeyError';

  constructor(
    /** The reserved key that was assigned. */
    readonly key: string,
  ) {
    super(
      `Session key "${key}" is reserved (the session's own member or an internal key); store the value under another name`,
    );
  }
}

/**
 * A session method was used after the session was destroyed, or `reload()` found the session
 * gone from the store.
 * @publicApi
 */
export class SessionGoneError extends Error {
  override readonly name = 'SessionGoneError';
}
