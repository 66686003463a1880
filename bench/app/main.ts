/**
 * One contender app: started by bench/run.js as a child process with an IPC channel, it listens
 * on a free loopback port and says which. It lives until the orchestrator disconnects (also
 * when the orchestrator dies: the channel closes with it), so no contender outlives a run.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { closeBackends, statements } from './backends';
import { AllocationSampler } from './diagnostics';
import { readConfig } from './config';
import { buildContender } from './contenders';

/** Messages from the orchestrator. */
type Request = {
  type: 'stats' | 'clock' | 'allocations-start' | 'allocations-stop';
  id: number;
  file?: string;
};

function send(message: object): void {
  process.send?.(message);
}

async function createApp(): Promise<INestApplication> {
  const config = readConfig();
  const { module, setup } = await buildContender(config);
  // Errors only: Nest's start-up chatter (and the MemoryStore-in-production warning, NODE_ENV
  // being production as in a deployed app) would drown the orchestrator's output.
  const logger = ['error'] as const;
  let app: INestApplication;
  if (config.platform === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(module, new FastifyAdapter(), { logger: [...logger] });
  } else {
    app = await NestFactory.create(module, { logger: [...logger] });
  }
  await setup?.(app);
  return app;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/app/main.ts is started by bench/run.js (needs IPC)');
  const app = await createApp();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Bounded: a store that hangs on close must not keep the process alive.
    setTimeout(() => process.exit(0), 3_000).unref();
    void app
      .close()
      .then(closeBackends)
      .finally(() => process.exit(0));
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let sampler: AllocationSampler | undefined;
  process.on('message', (message: Request) => {
    if (message?.type === 'stats') {
      // With --expose-gc (bench/profile.js runs it so), collect first: heapUsed is then what the
      // app retains, which tells a leak from garbage not yet collected.
      global.gc?.();
      send({
        type: 'stats',
        id: message.id,
        statements: statements.count,
        // The process's peak resident set (kB): a fallback where /proc is missing.
        maxRss: process.resourceUsage().maxRSS,
        memory: process.memoryUsage(),
      });
    } else if (message?.type === 'clock') {
      // The monotonic clock of --cpu-prof's timestamps (µs): bench/profile.js keeps only the
      // samples taken while it was driving the app.
      send({ type: 'clock', id: message.id, micros: Number(process.hrtime.bigint() / 1000n) });
    } else if (message?.type === 'allocations-start') {
      sampler = new AllocationSampler();
      void sampler.start().then(() => send({ type: message.type, id: message.id }));
    } else if (message?.type === 'allocations-stop' && sampler && message.file) {
      void sampler.stop(message.file).then(() => send({ type: message.type, id: message.id }));
    }
  });
  send({ type: 'ready', port, pid: process.pid });
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
