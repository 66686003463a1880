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
