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
