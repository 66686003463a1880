/**
 * The processes a benchmark run starts (contender apps, services), each a TypeScript entry run
 * with ts-node (transpile only, as `npm start` does) and an IPC channel. Every one is recorded
 * here so that whatever happens (an error, Ctrl-C, an uncaught exception) they are all killed
 * by pid before the orchestrator exits.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TS_PROJECT = path.join(ROOT, 'bench', 'tsconfig.json');

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

function killByPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Last resort, synchronous (runs in 'exit'): SIGKILL whatever is still running. */
function killAllNow() {
  for (const child of live) if (child.pid && alive(child)) killByPid(child.pid, 'SIGKILL');
  live.clear();
}

/**
 * Starts `entry` (a .ts file under bench/ of `root`, this checkout unless another is given)
 * with ts-node and waits for its `{ type: readyType }` message ('ready' by default; a one-shot
 * job answers 'result'). Rejects, with the tail of its stderr, when it exits first or takes
 * longer than `timeoutMs`.
 */
export function startTs(
  entry,
  {
    env = {},
    name = entry,
    timeoutMs = 90_000,
    execArgv = [],
    readyType = 'ready',
    root = ROOT,
  } = {},
) {
  const child = fork(path.join(root, entry), [], {
    cwd: root,
    execArgv: [...execArgv, '-r', 'ts-node/register/transpile-only'],
    env: {
      ...process.env,
      TS_NODE_PROJECT: root === ROOT ? TS_PROJECT : path.join(root, 'bench', 'tsconfig.json'),
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    // Errors of a running contender matter (a 500 is a broken run): pass them on.
    process.stderr.write(`[${name}] ${chunk}`);
  });
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      void stop(child);
      reject(new Error(`${name}: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const onExit = (code, signal) => fail(`exited (${signal ?? code}) before it was ready`);
    child.once('exit', onExit);
    child.on('message', function onReady(message) {
      if (message?.type !== readyType) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onReady);
      resolve({ child, info: message });
    });
  });
}

let nextId = 1;
/**
 * Asks a child a question over IPC (`extra` goes with it) and resolves with its answer, or
 * rejects after `timeoutMs`.
 */
export function ask(child, type, timeoutMs = 5_000, extra = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer to ${type} from pid ${child.pid}`));
    }, timeoutMs);
    function onMessage(message) {
      if (message?.type !== type || message.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    }
    child.on('message', onMessage);
    child.send({ ...extra, type, id });
  });
}

/**
 * Stops a child: closing the IPC channel and SIGTERM ask it to shut down cleanly; SIGKILL after
 * `graceMs` if it has not. Resolves once it has exited.
 */
export function stop(child, graceMs = 5_000) {
  if (!alive(child)) {
    live.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => killByPid(child.pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      live.delete(child);
      resolve();
    });
    if (child.connected) child.disconnect();
    killByPid(child.pid, 'SIGTERM');
  });
}

export async function stopAll() {
  await Promise.all([...live].map((child) => stop(child)));
}

/**
 * Installs the clean-up: on SIGINT/SIGTERM stop every child and exit; on 'exit' (normal end, an
 * uncaught error, process.exit) SIGKILL whatever is left.
 */
export function installCleanup() {
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)…\n`);
      // Bounded: never hang on a child that will not stop.
      setTimeout(() => process.exit(130), 8_000).unref();
      void stopAll().finally(() => process.exit(130));
    });
  }
}
