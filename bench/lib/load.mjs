/**
 * Driving a contender: autocannon runs (in this, the orchestrator's process, never in the
 * app's), the session cookie that scenarios 2 and 3 replay, and the app's peak RSS.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { clearTimeout, setTimeout } from 'node:timers';

/**
 * The four scenarios. `cookie: true`: every connection replays the cookie of its own session,
 * logged in beforehand, as that many users would (one session per client; a browser's requests
 * on one session are mostly sequential). One session shared by every connection would instead
 * measure write contention on one record, a different question.
 */
export const SCENARIOS = [
  {
    id: 'plain',
    title: '1. no cookie, session not used',
    method: 'GET',
    path: '/plain',
    cookie: false,
  },
  { id: 'read', title: '2. existing session, read', method: 'GET', path: '/read', cookie: true },
  {
    id: 'write',
    title: '3. existing session, changed',
    method: 'GET',
    path: '/write',
    cookie: true,
  },
  {
    id: 'login',
    title: '4. login (regenerate + write)',
    method: 'POST',
    path: '/login',
    cookie: false,
  },
];

/** Logs in once and returns the `name=value` of the session cookie the app set. */
export async function sessionCookie(baseUrl) {
  const res = await globalThis.fetch(`${baseUrl}/login`, { method: 'POST' });
  await res.text();
  const line = res.headers.get('set-cookie');
  if (res.status !== 200 || !line) throw new Error(`login at ${baseUrl} gave no cookie`);
  return line.split(';')[0];
}

/** `n` sessions, one login each: the cookies the connections of a run replay. */
export async function sessionCookies(baseUrl, n) {
  const cookies = [];
  for (let i = 0; i < n; i++) cookies.push(await sessionCookie(baseUrl));
  return cookies;
}

/**
 * The cookies a scenario's connections replay. The bare app has no session to log in to: it gets
 * cookies of a signed session cookie's shape and length (`connect.sid=s%3A<id>.<signature>`), so
 * its requests carry the same header bytes as everyone else's.
 */
export async function cookiesFor(library, baseUrl, n) {
  if (library !== 'bare') return sessionCookies(baseUrl, n);
  const fake = () =>
    `connect.sid=s%3A${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
  return Array.from({ length: n }, fake);
}

/**
 * One bounded autocannon run. Resolves with req/s (responses over the real duration), p99
 * latency (ms), the number of responses, and anything that was not a 2xx.
 */
export function drive({ url, method, cookies, durationSec, connections }) {
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method,
        connections,
        duration: durationSec,
        // Each connection gets its own session's cookie, set once (the request stays prebuilt).
        setupClient: cookies
          ? (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] })
          : undefined,
        // A request that hangs is an error of the run, not a reason to wait.
        timeout: 10,
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = result.duration || durationSec;
        resolve({
          rps: result.requests.total / seconds,
          p99: result.latency.p99,
          requests: result.requests.total,
          failures: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
    // Bounded even if autocannon itself never finishes.
    const guard = setTimeout(() => instance.stop(), (durationSec + 15) * 1000);
    instance.on('done', () => clearTimeout(guard));
  });
}

/**
 * Peak RSS of a process. Linux keeps it as VmHWM, and writing 5 to clear_refs starts it afresh,
 * so each scenario gets its own peak. Elsewhere both return undefined and the caller falls back
 * to the app's own lifetime peak (`process.resourceUsage().maxRSS`).
 */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS (bytes) since the last reset, or undefined without /proc. */
export function peakRss(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
