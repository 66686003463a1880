import { Inject, Injectable } from '@nestjs/common';
import { currentRequest } from './core/request-context';
import type { SessionObject } from './core/session';
import type { SessionEngine } from './core/session-engine';
import type { UserSession } from './core/user-sessions';
import type { Session } from './decorators/session.decorator';
import { SessionContextError } from './exceptions/session-context.error';
import { SESSION_ENGINE } from './session.constants';

/** What `destroyByUser()` may keep. */
export interface DestroyByUserOptions {
  /** `'current'`: keep the current request's session ("sign out everywhere else"). */
  except?: 'current';
}

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
  constructor(@Inject(SESSION_ENGINE) private readonly engine: SessionEngine) {}

  /** The current request's session, or `undefined` outside a request or on an ignored path. */
  current<T extends object = object>(): Session<T> | undefined {
    const req = currentRequest() as { session?: Session<T> } | undefined;
    return req?.session;
  }

  /** New id and empty data, old record destroyed. Resolves to the regenerated session (the same object). */
  async regenerate<T extends object = object>(session?: Session<T>): Promise<Session<T>> {
    const target = this.target(session, 'regenerate');
    const current = this.current();
    await target.regenerate();
    // The same object, refilled; under the express drop-in, the new object req.session now has.
    return (target === current ? (this.current() ?? target) : target) as Session<T>;
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

  /**
   * The user's live sessions (never an expired or ended one), newest activity first, the
   * current request's marked `current`. Needs the `userId` option.
   */
  findByUser(userId: string | number): Promise<UserSession[]> {
    return this.engine.users.find(userId, 'findByUser', this.currentId());
  }

  /**
   * Ends every session of the user, or every one but the current request's with
   * `{ except: 'current' }` ("sign out everywhere else"), and resolves how many it ended. A
   * request of an ended session still in flight cannot bring it back. Needs the `userId` option.
   */
  async destroyByUser(
    userId: string | number,
    options: DestroyByUserOptions = {},
  ): Promise<number> {
    const { except } = options ?? {};
    if (except !== undefined && except !== 'current') {
      throw new TypeError(
        `SessionService.destroyByUser() takes { except: 'current' } or no options, got except: ${String(except)}`,
      );
    }
    const current = this.current();
    if (except === 'current' && !current)
      throw this.noSession('destroyByUser', "{ except: 'current' }");
    const ended = await this.engine.users.destroyAll(
      userId,
      'destroyByUser',
      except === 'current' ? current!.id : undefined,
    );
    // The current request's own session, if it was among them, ends for this response too.
    if (except === undefined && current && this.engine.users.userOf(current) === String(userId))
      await current.destroy();
    return ended;
  }

  /**
   * Ends the one session of the user with that `handle` (from `findByUser()`): "sign out this
   * device". Resolves `false` when the user has no session with that handle: another user's, a
   * forged one, one already ended. Needs the `userId` option.
   */
  async destroyByHandle(userId: string | number, handle: string): Promise<boolean> {
    const ended = await this.engine.users.destroyByHandle(userId, handle, 'destroyByHandle');
    if (ended === undefined) return false;
    const current = this.current();
    if (current && this.currentId() === ended) await current.destroy();
    return true;
  }

  /** The current request's session id (a new session's is made now, and matches no stored one). */
  private currentId(): string | undefined {
    return this.current()?.id;
  }

  private noSession(method: string, what: string): SessionContextError {
    return new SessionContextError(
      `SessionService.${method}() with ${what} found no current session: it was called outside ` +
        'an HTTP request (or on an ignored path, or with the request context off: see the ' +
        'requestContext option).',
    );
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
