import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  // HOST narrows the interfaces listened on (e.g. 127.0.0.1); by default, all of them.
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  new Logger('Sample').log(`Tessera session demo on http://localhost:${port}`);
}

void bootstrap();
