import { redact } from '../core/redact';
import type { StoredSession } from '../core/stored-session';
import type { RedisStoreLogger, RedisStoreSerializer } from './redis-store.options';

/**
 * Sessions to the text stored in Redis and back: `JSON` unless a serializer is given. Text that
 * is not a session (not parsable, not an object with a cookie) is reported to the logger and
 * read as no session, never thrown: bad data in Redis must give a fresh session, not a 500.
 */
export class SessionCodec {
  /** With a serializer: the text each decoded record came from, by record (see textOf). */
  private readonly read = new WeakMap<object, string>();

  constructor(
    readonly serializer: RedisStoreSerializer | undefined,
    private readonly logger: RedisStoreLogger | undefined,
  ) {}

  encode(session: StoredSession): string {
    return this.serializer ? this.serializer.stringify(session) : JSON.stringify(session);
  }

  async decode(sid: string, text: string): Promise<StoredSession | null> {
    let value: unknown;
    try {
      value = this.serializer ? await this.serializer.parse(text) : JSON.parse(text);
    } catch (err) {
      this.warn(`RedisStore: session ${redact(sid)} is not readable, ignored: ${String(err)}`);
      return null;
    }
    if (!isObject(value) || !isObject(value.cookie)) {
      this.warn(`RedisStore: session ${redact(sid)} is not an object with a cookie, ignored`);
      return null;
    }
    if (this.serializer) this.read.set(value, text);
    return value as StoredSession;
  }

  /**
   * The text a record returned by `decode` was read from (with a serializer only): what a
   * compare-and-set must find still in place.
   */
  textOf(record: object): string | undefined {
    return this.read.get(record);
  }

  warn(message: string): void {
    this.logger?.warn(message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
