import { PROMISE_STORE } from '../core/store-gateway';
import { Store } from '../express/store';

/**
 * What the built-in stores share: they are connect stores, extending the `Store` of
 * `@tessera/session/express` (express-session's shape: an EventEmitter with its
 * `createSession` / `load` / `regenerate` helpers, Tessera's own code), so that each can also
 * be handed to express-session as is, and their methods return Promises for Tessera's core.
 */
export abstract class ConnectCompatibleStore extends Store {
  /** Tells Tessera's core that every method returns a Promise: it need not pass a callback. */
  readonly [PROMISE_STORE] = true;
}
