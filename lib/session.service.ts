import { Injectable } from '@nestjs/common';
import { currentRequest } from './core/request-context';
import type { SessionObject } from './core/session';
import type { Session } from './decorators/session.decorator';
import { SessionContextError } from './exceptions/session-context.error';

/**
 * The session methods as an injectable singleton. Without a session argument each acts on the
 * current request's session, found through the request context (no request-scoped provider,
 * so injecting it costs nothing per request).
 *
 * @publicApi
 * @example
 * ```ts
 * @Injectable()
 * export class AuthService {
 *   constructor(private readonly sessions: SessionService) {}
 *   async logIn(user: User) {
 *     const session = await this.sessions.regenerate();
 *     session.userId = user.id;
 *   }
 * }
 * ```
 */
@Injectable()
export class SessionService {
  /** The current request's session, or `undefined` outside a request or on an ignored path. */
  current<T extends object = object>(): Session<T> | undefined {
    const req = currentRequest() as { session?: Session<T> } | undefined;
    return req?.session;
  }

  /** New id and empty data, old record destroyed. Resolves to the same (now regenerated) object. */
  async regenerate<T extends object = object>(session?: Session<T>): Promise<Session<T>> {
    const target = this.target(session, 'regenerate');
    await target.regenerate();
    return target as Session<T>;
  }

  /** Removes the session from the store; the response clears the cookie. */
  destroy(session?: SessionObject): Promise<void> {
    return this.target(session, 'destroy').destroy();
  }

  /** Re-reads the session's data from the store into the same object. */
  reload(session?: SessionObject): Promise<void> {
    return this.target(session, 'reload').reload();
  }

  /** Writes the session now. */
  save(session?: SessionObject): Promise<void> {
    return this.target(session, 'save').save();
  }

  /** Resets `cookie.maxAge`; the store's expiry is extended when the request ends. */
  touch(session?: SessionObject): Promise<void> {
    return this.target(session, 'touch').touch();
  }

  private target(session: SessionObject | undefined, method: string): SessionObject {
    const target = session ?? this.current();
    if (!target) {
      throw new SessionContextError(
        `SessionService.${method}() found no current session: it was called outside an HTTP request ` +
          '(or on an ignored path, or with the request context off: see the requestContext option). ' +
          'Pass the session explicitly: sessions.' +
          method +
          '(session).',
      );
    }
    return target;
  }
}
