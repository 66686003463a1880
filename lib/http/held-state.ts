import { ServerResponse, type IncomingMessage } from 'node:http';
import { headersSentError, nativeHeadersSent, nativeWritableEnded } from './node-response';
import { REQUEST_SESSION } from './request-slot';

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
  /** The response reads its held state from its framework's shared prototype (see `takeOver`). */
  readonly shared: boolean;
  setHeader: Method | undefined;
}

type Args = unknown[];
type Method = (this: ServerResponse, ...args: Args) => unknown;
type HeldResponse = ServerResponse & { [HOLD]?: HoldState };

/** The header methods a held response refuses, and what each does instead while held. */
const WHILE_HELD = {
  setHeader: () => {
    throw headersSentError('set');
  },
  appendHeader: () => {
    throw headersSentError('append');
  },
  removeHeader: () => {
    throw headersSentError('remove');
  },
  // Node's flushHeaders() has nothing to flush once the head is sent (the release flushes it).
  flushHeaders: () => undefined,
} as const;
type Guarded = keyof typeof WHILE_HELD;
const GUARDED = Object.keys(WHILE_HELD) as Guarded[];

/** The output calls a hold takes over (see response-hold). */
export interface HeldOutput {
  writeHead: Method;
  write: Method;
  end: Method;
}

/** What `takeOver` did: the response's own output calls, and whether its prototype holds it. */
export interface TakenOver {
  readonly native: HeldOutput;
  readonly shared: boolean;
}

/**
 * Takes over a response's output calls and readies it to read as held, in one of two ways:
 * - A response whose framework gave it a prototype of its own (Express does, per app and
 *   sub-app) is held by its framework's root prototype, the one just above Node's: `output`'s
 *   methods, and the header methods and state of `exposeHold`, put there once, acting only for
 *   a response that has a hold. Nothing is defined on the response, whose hidden class varies
 *   from one to the next under Express, so that each definition is a slow step; and a response
 *   that moves between an app and its sub-apps (Express changes its prototype as it does) stays
 *   held, the root being on all their chains.
 * - Node's own response (Fastify's raw one) keeps its prototype, which every server in the
 *   process shares: the members are defined on the response, the held state only once a commit
 *   holds it. So is a response that already has one of those members as its own property, or
 *   whose chain has one below the root (another library patched it): its patch still runs;
 *   and, with `onItsOwn`, any response.
 */
export function takeOver(res: HeldResponse, output: HeldOutput, onItsOwn = false): TakenOver {
  if (!onItsOwn && !OWN_MEMBERS.some((name) => Object.hasOwn(res, name))) {
    const root = rootHold(res, output);
    if (root) return root;
  }
  const native: HeldOutput = {
    writeHead: res.writeHead as Method,
    write: res.write as Method,
    end: res.end as Method,
  };
  res.writeHead = output.writeHead as ServerResponse['writeHead'];
  res.write = output.write as ServerResponse['write'];
  res.end = output.end as ServerResponse['end'];
  return { native, shared: false };
}

/**
 * While held, the response reads as Node's would after the same calls: headers sent, ended
 * once `end()` was called, and headers refused. A response its prototype holds already does
 * (the shared members ask the hold); one that is not gets the members on itself.
 */
export function exposeHold(hold: HoldState, res: HeldResponse): void {
  if (hold.setHeader) return;
  hold.setHeader = res.setHeader as Method;
  if (hold.shared) return;
  Object.defineProperties(res, HELD_STATE);
  for (const name of GUARDED) guardOwn(res, name);
}

const OWN_MEMBERS = ['writeHead', 'write', 'end', ...GUARDED, 'headersSent', 'writableEnded'];

/**
 * What the root of `res`'s chain gives (see `takeOver`), whatever `res` has of its own: for a
 * response that had nothing of its own when it was taken over, anything it got since wraps the
 * root's members, which act for its hold.
 */
export function rootHold(res: HeldResponse, output: HeldOutput): TakenOver | undefined {
  const prototype = Object.getPrototypeOf(res) as object | null;
  return prototype === null ? undefined : sharedRootOf(prototype, output);
}

/** Each response prototype seen, and the hold its root gives (`undefined`: none can). */
const ROOT_OF = new WeakMap<object, TakenOver | undefined>();
/** The roots that hold responses, and what each gives. */
const HELD_ROOTS = new WeakMap<object, TakenOver>();

/** The shared hold for responses on `prototype`'s chain, put on its root the first time. */
function sharedRootOf(prototype: object, output: HeldOutput): TakenOver | undefined {
  if (ROOT_OF.has(prototype)) return ROOT_OF.get(prototype);
  const root = frameworkRoot(prototype);
  let taken = root && HELD_ROOTS.get(root);
  if (root && !taken) {
    taken = holdOnRoot(root, output);
    HELD_ROOTS.set(root, taken);
  }
  ROOT_OF.set(prototype, taken);
  return taken;
}

/**
 * The prototype just above Node's `ServerResponse.prototype` on `prototype`'s chain, when no
 * prototype below it has an output member of its own (it would come before the root's).
 */
function frameworkRoot(prototype: object): object | undefined {
  let root: object | undefined;
  for (let at: object | null = prototype; at !== ServerResponse.prototype;) {
    if (at === null) return undefined;
    if (root !== undefined && OWN_MEMBERS.some((name) => Object.hasOwn(root!, name))) {
      // `root` is below `at`: its own member would shadow whatever `at` is given.
      return undefined;
    }
    root = at;
    at = Object.getPrototypeOf(at) as object | null;
  }
  return root;
}

/**
 * Puts the held members on `root`, over what it had (its own, or Node's through it), for every
 * response on its chain: each acts as held only for a response that has a hold.
 */
function holdOnRoot(root: object, output: HeldOutput): TakenOver {
  const before = (name: string) => Reflect.get(root, name) as Method;
  const native: HeldOutput = {
    writeHead: before('writeHead'),
    write: before('write'),
    end: before('end'),
  };
  const members: PropertyDescriptorMap = {};
  for (const name of ['writeHead', 'write', 'end'] as const) {
    const held = output[name];
    const original = native[name];
    members[name] = {
      value: function (this: HeldResponse, ...args: Args) {
        return (sharedHold(this) ? held : original).apply(this, args);
      },
      writable: true,
      configurable: true,
    };
  }
  for (const name of GUARDED) {
    const original = before(name);
    members[name] = {
      value: function (this: HeldResponse, ...args: Args) {
        if (sharedHold(this)?.phase === HOLDING) return WHILE_HELD[name]();
        return original.apply(this, args);
      },
      writable: true,
      configurable: true,
    };
  }
  Object.defineProperties(root, { ...members, ...SHARED_STATE });
  return { native, shared: true };
}

/** Wraps the response's `name` (Node's, or another library's patch) in the hold's guard. */
function guardOwn(res: HeldResponse, name: Guarded): void {
  const own = res[name] as Method;
  res[name] = function (this: HeldResponse, ...args: Args) {
    return this[HOLD]!.phase === HOLDING ? WHILE_HELD[name]() : own.apply(this, args);
  } as never;
}

/**
 * The hold of a response that its root holds. A response with no hold, or held through members
 * of its own (which may call the root's as what they wrap), gets what the root had before.
 */
function sharedHold(res: HeldResponse): HoldState | undefined {
  return (res.req as HoldingRequest | undefined)?.[REQUEST_SESSION]?.[SHARED_HOLD];
}

/**
 * Where a response its root holds keeps its hold: on its request's sessions, one property of an
 * object whose shape is always the same, rather than on the response, where each property added
 * is a slow step under Express (see `takeOver`).
 */
const SHARED_HOLD = Symbol('tessera:shared-hold');

type HoldingRequest = IncomingMessage & {
  [REQUEST_SESSION]?: { [SHARED_HOLD]?: HoldState };
};

/** The response's hold, wherever it is kept (see `keepHold`). */
export function holdOf<Hold extends HoldState>(res: ServerResponse): Hold | undefined {
  return ((res as HeldResponse)[HOLD] ?? sharedHold(res)) as Hold | undefined;
}

/**
 * Keeps `hold` for `res`: a shared hold on the sessions of its request (`res.req`), which must
 * have them already, any other on the response itself.
 */
export function keepHold(res: ServerResponse, hold: HoldState): void {
  if (hold.shared) (res.req as HoldingRequest)[REQUEST_SESSION]![SHARED_HOLD] = hold;
  else (res as HeldResponse)[HOLD] = hold;
}

/** The held state on a root: as `HELD_STATE`, and Node's own for a response it does not hold. */
const SHARED_STATE: PropertyDescriptorMap = {
  headersSent: {
    get(this: HeldResponse) {
      return sharedHold(this)?.phase === HOLDING || nativeHeadersSent(this);
    },
    configurable: true,
  },
  writableEnded: {
    get(this: HeldResponse) {
      const hold = sharedHold(this);
      return (hold !== undefined && (hold.ended || hold.sending)) || nativeWritableEnded(this);
    },
    configurable: true,
  },
};

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
