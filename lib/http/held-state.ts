import { ServerResponse } from 'node:http';
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

/**
 * Takes over a response's output calls and readies it to read as held, in one of two ways,
 * chosen by what measured faster (`bench/`, A/B):
 * - A response whose prototype was already changed (Express sets each app's own) gets another
 *   one on top, made once per prototype: `output`'s methods, and the header methods and state
 *   of `exposeHold`, which act only while the hold says so. Express's responses vary in hidden
 *   class from one to the next, so defining nine members on each is nine slow steps; this is
 *   one (Express writes: 4,240 -> 5,056 req/s).
 * - Node's own response (Fastify's raw one) keeps its prototype: changing it per response costs
 *   far more there than the members do (Fastify, no session: 57,128 -> 17,018 req/s), so the
 *   members are defined on the response, the held state only once a commit holds it.
 * A response that already has one of those members as its own property (another library
 * patched it) also gets them on itself, so that the patch still runs. Returns Node's output
 * methods, as the response had them.
 */
export function takeOver(res: HeldResponse, output: HeldOutput): HeldOutput {
  const native: HeldOutput = {
    writeHead: res.writeHead as Method,
    write: res.write as Method,
    end: res.end as Method,
  };
  const prototype = Object.getPrototypeOf(res) as object;
  if (
    prototype === ServerResponse.prototype ||
    OWN_MEMBERS.some((name) => Object.hasOwn(res, name))
  ) {
    res.writeHead = output.writeHead as ServerResponse['writeHead'];
    res.write = output.write as ServerResponse['write'];
    res.end = output.end as ServerResponse['end'];
  } else {
    Object.setPrototypeOf(res, heldPrototypeOf(prototype, output));
  }
  return native;
}

/**
 * While held, the response reads as Node's would after the same calls: headers sent, ended
 * once `end()` was called, and headers refused. A response on a held prototype already does
 * (its members ask the hold); one that is not gets the members on itself.
 */
export function exposeHold(hold: HoldState, res: HeldResponse): void {
  if (hold.setHeader) return;
  hold.setHeader = res.setHeader as Method;
  if (HELD_PROTOTYPES.has(Object.getPrototypeOf(res) as object)) return;
  Object.defineProperties(res, HELD_STATE);
  for (const name of GUARDED) guardOwn(res, name);
}

const OWN_MEMBERS = ['writeHead', 'write', 'end', ...GUARDED, 'headersSent', 'writableEnded'];

/** Each prototype a held response had, and the held prototype made on top of it. */
const HELD_ON = new WeakMap<object, object>();
/** The held prototypes. */
const HELD_PROTOTYPES = new WeakSet<object>();

function heldPrototypeOf(prototype: object, output: HeldOutput): object {
  let held = HELD_ON.get(prototype);
  if (held === undefined) {
    const members: PropertyDescriptorMap = { ...HELD_STATE };
    for (const [name, value] of Object.entries(output))
      members[name] = { value, writable: true, configurable: true };
    for (const name of GUARDED) {
      members[name] = {
        // The method is looked up on the prototype at each call, so a later patch of it holds.
        value: function (this: HeldResponse, ...args: Args) {
          if (this[HOLD]!.phase === HOLDING) return WHILE_HELD[name]();
          return (Reflect.get(prototype, name, this) as Method).apply(this, args);
        },
        writable: true,
        configurable: true,
      };
    }
    held = Object.create(prototype, members) as object;
    HELD_ON.set(prototype, held);
    HELD_PROTOTYPES.add(held);
  }
  return held;
}

/** Wraps the response's `name` (Node's, or another library's patch) in the hold's guard. */
function guardOwn(res: HeldResponse, name: Guarded): void {
  const own = res[name] as Method;
  res[name] = function (this: HeldResponse, ...args: Args) {
    return this[HOLD]!.phase === HOLDING ? WHILE_HELD[name]() : own.apply(this, args);
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
