import type { ServerResponse } from 'node:http';
import { headersSentError, nativeHeadersSent, nativeWritableEnded } from './node-response';

// How a held response reads while the commit runs: as Node's own would after the same calls.

/** Where a response keeps its hold. */
export const HOLD = Symbol('tessera:response-hold');

// The phases: nothing has gone out yet (OPEN); a commit runs and the calls wait (HOLDING);
// everything is passed straight to Node (RELEASED).
export const [OPEN, HOLDING, RELEASED] = [0, 1, 2];

/** The little of a hold these accessors read. */
export interface HoldState {
  readonly phase: number;
  readonly ended: boolean;
  /** The framework's own send is under way, committing before it writes the head. */
  readonly sending: boolean;
  setHeader: Method | undefined;
}

type Args = unknown[];
type Method = (this: ServerResponse, ...args: Args) => unknown;
type HeldResponse = ServerResponse & { [HOLD]?: HoldState };

/**
 * While held, the response reads as Node's would after the same calls: headers sent, ended
 * once `end()` was called, and headers refused.
 */
export function exposeHold(hold: HoldState, res: HeldResponse): void {
  if (hold.setHeader) return;
  hold.setHeader = res.setHeader as Method;
  Object.defineProperties(res, HELD_STATE);
  // As far as the handler can tell the head is sent: Node refuses header changes then, and its
  // flushHeaders() has nothing to flush (until the release, which flushes it).
  guard(res, 'setHeader', () => {
    throw headersSentError('set');
  });
  guard(res, 'appendHeader', () => {
    throw headersSentError('append');
  });
  guard(res, 'removeHeader', () => {
    throw headersSentError('remove');
  });
  guard(res, 'flushHeaders', () => undefined);
}

type Guarded = 'setHeader' | 'appendHeader' | 'removeHeader' | 'flushHeaders';

function guard(res: HeldResponse, name: Guarded, whileHeld: () => unknown): void {
  const native = res[name] as Method;
  res[name] = function (this: HeldResponse, ...args: Args) {
    return this[HOLD]!.phase === HOLDING ? whileHeld() : native.apply(this, args);
  } as never;
}

const HELD_STATE: PropertyDescriptorMap = {
  headersSent: {
    get(this: HeldResponse) {
      return this[HOLD]!.phase === HOLDING || nativeHeadersSent(this);
    },
    configurable: true,
  },
  writableEnded: {
    get(this: HeldResponse) {
      const hold = this[HOLD]!;
      return hold.ended || hold.sending || nativeWritableEnded(this);
    },
    configurable: true,
  },
};
