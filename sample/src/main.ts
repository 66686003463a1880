import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/** The app on the platform HTTP_ADAPTER names: the session module is the same on both. */
async function createApp() {
  if (process.env.HTTP_ADAPTER === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(AppModule, new FastifyAdapter());
  }
  return NestFactory.create(AppModule);
}

async function bootstrap(): Promise<void> {
  const app = await createApp();
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  // HOST narrows the interfaces listened on (e.g. 127.0.0.1); by default, all of them.
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  new Logger('Sample').log(
    `Tessera session demo on http://localhost:${port} (${process.env.HTTP_ADAPTER ?? 'express'})`,
  );
}

void bootstrap();
