import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';
import { rawRequest, type RawRequestOptions, type RawResponse } from './raw-http';

/**
 * A Nest app with SessionModule and the response-path routes (test/src/response.controller.ts)
 * in a child process of its own, so that a defect that takes the process down is something a
 * test observes rather than the end of the Jest worker.
 *
 * This file is both halves: run as a script (`node -r ts-node/register/transpile-only
 * test/support/child-app.ts`, which `ChildApp.start` does) it is the server; imported, it is
 * the parent's handle on that server. The server half loads Nest only when it runs, so the
 * parent never does.
 */

export type ChildPlatform = 'express' | 'fastify';

/** Paths under this prefix are on the app's `ignore` list: Node's own response, no session. */
export const NATIVE_PREFIX = '/native';

const SECRET = 'child app secret: keyboard cat';
const ROOT = resolve(__dirname, '../..');

/** What the parent asks the child over IPC. */
export type ChildCommand =
  | { cmd: 'observations'; token: string }
  | { cmd: 'stats'; sid: string }
  | { cmd: 'record'; sid: string }
  | { cmd: 'writeDelay'; ms: number }
  | { cmd: 'constants' };

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** Children this process started and has not stopped yet, killed by pid if it exits first. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** The parent's handle on one child app. */
export class ChildApp {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private log = '';
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly platform: ChildPlatform,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      // The tail is what explains a crash; bounded, whatever the child prints.
      this.log = (this.log + chunk.toString()).slice(-64_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: Reply) => {
      const answer = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      answer?.(message);
    });
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(child.pid!);
        for (const [id, answer] of this.waiting) answer({ id, error: 'the child app exited' });
        this.waiting.clear();
        done();
      }),
    );
  }

  /** Starts the app on a free loopback port; resolves once it listens. */
  static async start(platform: ChildPlatform, timeoutMs = 60_000): Promise<ChildApp> {
    const port = await freePort();
    const child = fork(join(__dirname, 'child-app.ts'), [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        CHILD_APP_PLATFORM: platform,
        CHILD_APP_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.add(child.pid!);
    const app = new ChildApp(platform, port, child);
    const ready = await new Promise<string | undefined>((done) => {
      const timer = setTimeout(() => done(`did not listen within ${timeoutMs} ms`), timeoutMs);
      child.on('message', (message: { ready?: boolean }) => {
        if (!message.ready) return;
        clearTimeout(timer);
        done(undefined);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        done(`exited with code ${code} before it listened`);
      });
    });
    if (ready) {
      await app.stop();
      throw new Error(`The ${platform} child app ${ready}:\n${app.output()}`);
    }
    return app;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether the process is still running. */
  alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** How it ended, when it did. */
  exit(): { code: number | null; signal: string | null } | undefined {
    return this.exitInfo;
  }

  /** Resolves once the process has exited, or after `ms`: whether it exited. */
  async exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((done) => (timer = setTimeout(done, ms)))]);
    clearTimeout(timer);
    return !this.alive();
  }

  /** The tail of what the child printed. */
  output(): string {
    return this.log;
  }

  /** A one-line account of the process, for assertion messages. */
  describe(): string {
    const exit = this.exitInfo;
    return exit
      ? `the ${this.platform} app process EXITED (code ${exit.code}, signal ${exit.signal}); its last output:\n${this.log.slice(-4000)}`
      : `the ${this.platform} app process (pid ${this.pid}) is running`;
  }

  /** One request on a fresh connection; see `rawRequest`. */
  request(path: string, options?: RawRequestOptions): Promise<RawResponse> {
    return rawRequest(this.port, path, options);
  }

  /** Asks the child something over IPC. */
  control<T = unknown>(command: ChildCommand, timeoutMs = 5_000): Promise<T> {
    if (!this.alive()) return Promise.reject(new Error(this.describe()));
    const id = this.nextId++;
    return new Promise<T>((done, fail) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        fail(new Error(`the child app did not answer ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error !== undefined) fail(new Error(reply.error));
        else done(reply.result as T);
      });
      this.child.send({ id, ...command });
    });
  }

  /** Ends the process by its pid (SIGTERM, then SIGKILL); safe to call twice. */
  async stop(): Promise<void> {
    if (!this.alive()) return;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(this.pid, signal);
      } catch {
        // Already gone.
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- the server half ------------------------------------------------------------------------

async function serve(): Promise<void> {
  // The parent gone (a killed Jest worker runs no exit hook): so is this app.
  process.on('disconnect', () => process.exit(0));
  const platform = process.env.CHILD_APP_PLATFORM as ChildPlatform;
  const port = Number(process.env.CHILD_APP_PORT);
  await import('reflect-metadata');
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { SessionModule } = await import('../../lib');
  const controller = await import('../src/response.controller');
  const { SlowStore } = await import('./slow-store');
  const store = new SlowStore();

  @Module({
    imports: [
      SessionModule.forRoot({
        secret: SECRET,
        store,
        ignore: [new RegExp(`^${NATIVE_PREFIX}(/|$)`)],
      }),
    ],
    controllers: [controller.ResponseController],
  })
  class ChildAppModule {}

  const logger = ['error', 'warn'] as ('error' | 'warn')[];
  const app =
    platform === 'fastify'
      ? await NestFactory.create(
          ChildAppModule,
          new (await import('@nestjs/platform-fastify')).FastifyAdapter(),
          { logger },
        )
      : await NestFactory.create(ChildAppModule, { logger });
  await app.listen(port, '127.0.0.1');

  const answer = async (command: ChildCommand): Promise<unknown> => {
    switch (command.cmd) {
      case 'observations': {
        const seen = controller.observations.get(command.token);
        controller.observations.delete(command.token);
        return seen ?? null;
      }
      case 'stats':
        return store.statsOf(command.sid);
      case 'record':
        return store.record(command.sid);
      case 'writeDelay':
        store.writeDelayMs = command.ms;
        return null;
      case 'constants':
        return {
          atStart: controller.STATIC_HEADERS_AT_START,
          now: JSON.stringify(controller.STATIC_HEADERS),
        };
    }
  };
  process.on('message', (message: ChildCommand & { id: number }) => {
    answer(message).then(
      (result) => process.send!({ id: message.id, result }),
      (err: Error) => process.send!({ id: message.id, error: err.message }),
    );
  });
  process.send!({ ready: true });
}

if (require.main === module) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(2);
  });
}
