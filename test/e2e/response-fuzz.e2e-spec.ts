import { PLATFORMS } from '../support/app';
import { ChildApp, NATIVE_PREFIX } from '../support/child-app';
import {
  cookieLines,
  cookiePair,
  describeResponse,
  sessionIdOf,
  type RawResponse,
} from '../support/raw-http';
import { REFUSE_KEY, type WriteStats } from '../support/slow-store';
import type { FuzzHeaders, FuzzOp, StaticHeaders } from '../src/response.controller';

/**
 * Seeded fuzzing of the response path (issue 9): random sequences of writeHead / setHeader /
 * write / flushHeaders / end (and a second end), with session reads and changes at random
 * points, run by one handler on the raw response of an app in a child process, under a store
 * that refuses some writes. Every case is checked for: the process alive; well-formed HTTP;
 * no session cookie but the client's own; no complete 2xx unless every change reached the
 * store; and, where nothing was refused and no header was invalid, the very status, body and
 * thrown errors of the same program on Node's own response (`/native/fuzz`, no session).
 *
 * To replay: the seed is in the test name, the case number and program in the failure; run
 * `FUZZ_SEEDS=0x1234 npx jest test/e2e/response-fuzz.e2e-spec.ts`.
 */

const SEEDS = process.env.FUZZ_SEEDS
  ? process.env.FUZZ_SEEDS.split(',').map((seed) => Number(seed))
  : [0x5eed0001, 0xc0ffee02, 0x0badf00d];
const CASES_PER_SEED = 50;
/** Enough to show what is wrong: past this many, a seed's run stops early. */
const MAX_VIOLATIONS = 8;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzCase {
  withCookie: boolean;
  program: FuzzOp[];
  /** Whether some header value is one Node refuses. */
  invalidHeader: boolean;
}

const BAD_HEADER_VALUES = ['поиск', 'a\r\nSet-Cookie: connect.sid=injected', 'x\ny'];
// Not the [[name, value], …] form: Node takes it only while no header is set yet, and refuses it
// otherwise (ERR_INVALID_HTTP_TOKEN), which would make most programs invalid on Express.
const STATIC_KINDS: StaticHeaders[] = [
  'object',
  'withCookie',
  'array',
  'frozenObject',
  'frozenWithCookie',
  'frozenArray',
];
const KEYS = ['a', 'b', 'c'];

function generate(rand: () => number): FuzzCase {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const chance = (p: number) => rand() < p;
  let invalidHeader = false;
  const header = (): [string, string] => {
    const name = pick(['X-Fuzz-A', 'X-Fuzz-B', 'Content-Type', 'Cache-Control', 'Set-Cookie']);
    if (chance(0.1)) {
      invalidHeader = true;
      return [name, pick(BAD_HEADER_VALUES)];
    }
    if (name === 'Set-Cookie') return [name, `fuzz${int(100)}=1; Path=/`];
    if (name === 'Content-Type') return [name, pick(['text/plain', 'application/json'])];
    return [name, `v${int(1000)}`];
  };
  const headers = (): FuzzHeaders | undefined => {
    const r = rand();
    if (r < 0.2) return undefined;
    if (r < 0.6) {
      const kind = r < 0.45 ? 'object' : 'array';
      return { kind, entries: Array.from({ length: 1 + int(3) }, header) };
    }
    return { kind: 'static', name: pick(STATIC_KINDS) };
  };
  const setHeader = (): FuzzOp => {
    if (chance(0.15))
      return { op: 'setHeader', name: 'X-Multi', value: [`m${int(9)}`, `n${int(9)}`] };
    const [name, value] = header();
    return { op: 'setHeader', name, value };
  };
  const value = () => pick<unknown>([int(100), `s${int(100)}`, true]);
  const sessionOp = (): FuzzOp => {
    const r = rand();
    if (r < 0.55) return { op: 'change', key: pick(KEYS), value: value() };
    if (r < 0.78) return { op: 'read' };
    if (r < 0.88) return { op: 'tick' };
    if (r < 0.95) return { op: 'change', key: REFUSE_KEY, value: true };
    return { op: 'failNextWrite' };
  };
  const program: FuzzOp[] = [];
  for (let i = int(3); i > 0; i--) program.push(chance(0.6) ? sessionOp() : setHeader());
  if (chance(0.65)) {
    program.push({
      op: 'writeHead',
      status: pick([200, 200, 200, 201, 204, 302, 404, 500]),
      headers: headers(),
    });
  }
  for (let i = int(5); i > 0; i--) {
    const r = rand();
    if (r < 0.35) program.push({ op: 'write', data: `w${int(100)}.` });
    else if (r < 0.65) program.push(sessionOp());
    else if (r < 0.75) program.push({ op: 'tick' });
    else if (r < 0.85) program.push(setHeader());
    else if (r < 0.95) program.push({ op: 'flushHeaders' });
    else program.push({ op: 'writeHead', status: 200, headers: headers() });
  }
  program.push({
    op: 'end',
    data: chance(0.7) ? `e${int(100)}` : undefined,
    change: chance(0.3) ? { key: pick(KEYS), value: value() } : undefined,
  });
  if (chance(0.2)) program.push({ op: 'end', data: chance(0.5) ? 'again' : undefined });
  return { withCookie: chance(0.5), program, invalidHeader };
}

/**
 * Whether the program changes its session before anything sends the headers: only then can a
 * new session's cookie go out with them (a change made inside end()'s arguments is made before
 * that end). A new session first changed after the headers went out can reach no client, so
 * what the store keeps of it is no client's business.
 */
function changedBeforeHead(program: FuzzOp[]): boolean {
  for (const op of program) {
    if (op.op === 'change') return true;
    if (op.op === 'end' && op.change) return true;
    if (op.op === 'writeHead' || op.op === 'write' || op.op === 'flushHeaders' || op.op === 'end')
      return false;
  }
  return false;
}

interface Observed {
  applied?: Record<string, unknown>;
  sessionId?: string;
  steps?: number;
  threw?: string;
}

describe.each(PLATFORMS)('response fuzz (%s)', (platform) => {
  let app: ChildApp;
  /** Every session id any case was given, with the case it belongs to. */
  const issued = new Map<string, string>();
  /** How often a case took the process down and it had to be started again. */
  let restarts = 0;

  beforeAll(async () => {
    app = await ChildApp.start(platform);
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
  });

  const fuzzUrl = (prefix: string, program: FuzzOp[], t: string) =>
    `${prefix}/fuzz?t=${t}&p=${Buffer.from(JSON.stringify(program)).toString('base64url')}`;

  /**
   * Starts the app again when a case took it down, so that the remaining cases still run; the
   * death is reported once, by whoever saw it first.
   */
  async function restartIfDead(wrong: string[], label: string): Promise<void> {
    if (app.alive()) return;
    if (!wrong.some((line) => line.includes('EXITED')))
      wrong.push(`${label}: ${app.describe().slice(0, 1500)}`);
    restarts++;
    app = await ChildApp.start(platform);
  }

  /** Runs one case; returns what was wrong with it. */
  async function runCase(c: FuzzCase, label: string): Promise<string[]> {
    const wrong: string[] = [];
    const say = (why: string, res?: RawResponse) =>
      wrong.push(`${label}: ${why}${res ? `\n    got: ${describeResponse(res)}` : ''}`);

    let cookie: string | undefined;
    let ownSid: string | undefined;
    if (c.withCookie) {
      const login = await app.request('/login', { timeoutMs: 5_000 });
      const lines = cookieLines(login.parsed);
      if (login.parsed.kind !== 'complete' || lines.length !== 1) {
        say('could not sign in', login);
        return wrong;
      }
      cookie = cookiePair(lines[0]);
      ownSid = sessionIdOf(lines[0]);
      issued.set(ownSid, label);
    }
    const statsBefore = ownSid
      ? await app.control<WriteStats>({ cmd: 'stats', sid: ownSid })
      : { acked: 0, refused: 0, pending: 0 };

    // Node's own response, for the same program (no session on /native: a stand-in object).
    const nativeToken = `${label}-native`.replace(/\W/g, '_');
    const native = await app.request(fuzzUrl(NATIVE_PREFIX, c.program, nativeToken), {
      timeoutMs: 5_000,
    });
    const nativeSeen = await app.control<Observed | null>({
      cmd: 'observations',
      token: nativeToken,
    });

    const t = `${label}-held`.replace(/\W/g, '_');
    const res = await app.request(fuzzUrl('', c.program, t), {
      headers: cookie ? { Cookie: cookie } : {},
      timeoutMs: 5_000,
    });
    if (res.parsed.kind !== 'complete') await app.exitedWithin(1_000);
    if (!app.alive()) {
      say(`the process died: ${app.describe().slice(0, 1500)}`, res);
      return wrong;
    }
    const ping = await app.request('/plain', { timeoutMs: 5_000 });
    if (ping.parsed.kind !== 'complete' || !app.alive()) {
      await app.exitedWithin(1_500);
      say(`the app stopped serving after this case: ${app.describe().slice(0, 1500)}`, ping);
      // Running but not serving is no better: start afresh for the next case.
      await app.stop();
      return wrong;
    }
    const seen = (await app.control<Observed | null>({ cmd: 'observations', token: t })) ?? {};
    const p = res.parsed;

    // Well-formed HTTP, or a connection closed before a complete response; never garbage, never a hang.
    if (p.kind === 'malformed') say('not well-formed HTTP', res);
    if (res.timedOut) say('no response within 5 s', res);

    // No session cookie but the client's own.
    const sids = cookieLines(p).map(sessionIdOf);
    if (sids.length > 1) say(`${sids.length} session cookies in one response`, res);
    for (const sid of sids) {
      const owner = issued.get(sid);
      if (ownSid !== undefined && sid !== ownSid) {
        say(`a session cookie for ${sid.slice(0, 8)}… (${owner ?? 'unknown'}), not its own`, res);
      } else if (ownSid === undefined && owner !== undefined) {
        say(`the session cookie of another client (${owner})`, res);
      } else if (ownSid === undefined && seen.sessionId !== undefined && sid !== seen.sessionId) {
        say(`a session cookie for ${sid.slice(0, 8)}…, not the session the handler had`, res);
      }
    }
    const sid = ownSid ?? seen.sessionId;
    if (sid !== undefined && !issued.has(sid)) issued.set(sid, label);

    // No complete 2xx unless every change the handler made reached the store.
    const complete2xx = p.kind === 'complete' && p.status >= 200 && p.status < 300;
    let refused = 0;
    if (sid !== undefined) {
      const after = await app.control<WriteStats>({ cmd: 'stats', sid });
      refused = after.refused - statsBefore.refused;
      if (complete2xx && refused > 0) {
        say(`a complete ${p.status} although the store refused ${refused} write(s)`, res);
      }
      const applied = seen.applied ?? {};
      const reachable = ownSid !== undefined || changedBeforeHead(c.program);
      if (complete2xx && reachable && Object.keys(applied).length > 0) {
        const record =
          (await app.control<Record<string, unknown> | null>({ cmd: 'record', sid })) ?? {};
        const lost = Object.keys(applied).filter(
          (key) => JSON.stringify(record[key]) !== JSON.stringify(applied[key]),
        );
        if (lost.length > 0) {
          const what = lost.map((k) => `${k}=${JSON.stringify(applied[k])}`).join(', ');
          say(`a complete ${p.status}, but the store lacks ${what}`, res);
        }
        if (ownSid === undefined && (sids.length !== 1 || sids[0] !== sid)) {
          say(`a new session with data, made before the headers, but no cookie for it`, res);
        }
      }
    }

    // Node's own response contract: where no store write failed and every header was valid,
    // the same status, body and thrown errors as the same program on Node's own response.
    const refusing = c.program.some(
      (op) => op.op === 'failNextWrite' || (op.op === 'change' && op.key === REFUSE_KEY),
    );
    if (!c.invalidHeader && !refusing && refused === 0 && nativeSeen && p.kind !== 'malformed') {
      const np = native.parsed;
      if (np.kind !== 'complete') {
        say(`(test problem) the native run did not complete`, native);
      } else if (p.kind !== 'complete') {
        say(`Node's own response completed (${np.status}), this one did not`, res);
      } else {
        if (p.status !== np.status)
          say(`status ${p.status}, Node's own response ${np.status}`, res);
        if (!p.body.equals(np.body)) {
          say(
            `body ${JSON.stringify(p.body.toString())}, Node's own response ${JSON.stringify(np.body.toString())}`,
            res,
          );
        }
      }
      if (seen.threw !== nativeSeen.threw || seen.steps !== nativeSeen.steps) {
        say(
          `the handler threw ${seen.threw ?? 'nothing'} at step ${seen.steps}, on Node's own response ${nativeSeen.threw ?? 'nothing'} at step ${nativeSeen.steps}`,
        );
      }
    }
    return wrong;
  }

  it.each(SEEDS.map((seed) => `0x${seed.toString(16)}`))(
    `seed %s: ${CASES_PER_SEED} random response-path programs keep the process alive, HTTP well-formed, session cookies private and writes honest`,
    async (seedText) => {
      const rand = mulberry32(Number(seedText));
      const violations: string[] = [];
      for (let i = 0; i < CASES_PER_SEED && violations.length < MAX_VIOLATIONS; i++) {
        const c = generate(rand);
        const label = `seed ${seedText} case ${i}`;
        let wrong: string[];
        try {
          wrong = await runCase(c, label);
        } catch (err) {
          wrong = [`${label}: ${(err as Error).message.slice(0, 1500)}`];
        }
        await restartIfDead(wrong, label);
        if (wrong.length > 0) {
          violations.push(
            `${wrong.join('\n  ')}\n    ${c.withCookie ? 'with' : 'without'} a session cookie, program: ${JSON.stringify(c.program)}`,
          );
        }
      }
      const constants = await app.control<{ atStart: string; now: string }>({
        cmd: 'constants',
      });
      if (constants.now !== constants.atStart) {
        violations.push(
          `seed ${seedText}: the shared header constants changed:\n    was ${constants.atStart}\n    now ${constants.now}`,
        );
      }
      expect(violations).toEqual([]);
    },
    120_000,
  );

  it('afterwards the app still serves a plain request, in the process it started with', async () => {
    expect(app.describe()).toBe(`the ${platform} app process (pid ${app.pid}) is running`);
    const res = await app.request('/plain', { timeoutMs: 5_000 });
    expect(describeResponse(res)).toBe('complete 200, 5 bytes: "plain"');
    expect(restarts).toBe(0);
  });
});
