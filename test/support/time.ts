/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 50 ms, at most `attempts` times (10 s by default). */
export async function until(what: string, done: () => boolean, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (done()) return;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}
