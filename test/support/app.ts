import type { INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { SessionModule, type SessionModuleOptions } from '../../lib';

export const SECRET = 'test secret: keyboard cat';

/** A running test app on a loopback port, and what its tests need to talk to it. */
export interface TestApp {
  app: INestApplication;
  url: string;
  /** A supertest client for the app that keeps no cookies. */
  http: () => ReturnType<typeof request>;
  /** A supertest agent that keeps cookies across requests, as a browser would. */
  browser: () => ReturnType<typeof request.agent>;
  close: () => Promise<void>;
}

/** Starts a Nest app with `SessionModule.forRoot(options)` and `controllers`, on 127.0.0.1. */
export async function startApp(
  options: Partial<SessionModuleOptions> = {},
  controllers: Type[] = [],
  metadata: ModuleMetadata = {},
): Promise<TestApp> {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, ...options }), ...(metadata.imports ?? [])],
    controllers,
    providers: metadata.providers ?? [],
  })
  class TestAppModule {}
  return startModule(TestAppModule);
}

/** Starts a Nest app from a root module, on 127.0.0.1. */
export async function startModule(root: Type, configure?: (app: INestApplication) => void): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    http: () => request(url),
    browser: () => request.agent(url),
    close: () => app.close(),
  };
}

/** The `name=value` pairs of a response's Set-Cookie headers, by name. */
export function setCookies(res: { headers: Record<string, unknown> }): Record<string, string> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)];
  return Object.fromEntries(list.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** The `name=value` part of the session cookie in a response, for a `Cookie` header. */
export function sessionCookie(res: { headers: Record<string, unknown> }, name = 'connect.sid'): string {
  const line = setCookies(res)[name];
  if (!line) throw new Error(`the response set no ${name} cookie`);
  return line.slice(0, line.indexOf(';'));
}
