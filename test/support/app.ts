import type { INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createHmac } from 'node:crypto';
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

/** The HTTP platforms every e2e suite runs on. */
export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Starts a Nest app with `SessionModule.forRoot(options)` and `controllers`, on 127.0.0.1. */
export async function startApp(
  options: Partial<SessionModuleOptions> = {},
  controllers: Type[] = [],
  metadata: ModuleMetadata & {
    platform?: Platform;
    configure?: (app: INestApplication) => void;
  } = {},
): Promise<TestApp> {
  @Module({
    imports: [SessionModule.forRoot({ secret: SECRET, ...options }), ...(metadata.imports ?? [])],
    controllers,
    providers: metadata.providers ?? [],
  })
  class TestAppModule {}
  return startModule(TestAppModule, metadata.platform, metadata.configure);
}

/** Starts a Nest app from a root module, on 127.0.0.1, on the given platform. */
export async function startModule(
  root: Type,
  platform: Platform = 'express',
  configure?: (app: INestApplication) => void,
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(
          new (await import('@nestjs/platform-fastify')).FastifyAdapter(),
          { logger: false },
        )
      : moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  if (platform === 'fastify')
    await (app as unknown as { getHttpAdapter(): { getInstance(): { ready(): Promise<void> } } })
      .getHttpAdapter()
      .getInstance()
      .ready();
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
export function sessionCookie(
  res: { headers: Record<string, unknown> },
  name = 'connect.sid',
): string {
  const line = setCookies(res)[name];
  if (!line) throw new Error(`the response set no ${name} cookie`);
  return line.slice(0, line.indexOf(';'));
}

/**
 * The `Cookie` header value for session `id` signed with `secret`, as express-session signs it:
 * computed here with node:crypto, independently of lib/.
 */
export function signedCookie(id: string, secret = SECRET): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `connect.sid=${encodeURIComponent(`s:${id}.${mac}`)}`;
}

/**
 * For a describe block whose tests each start their own apps: the `start` it returns runs
 * {@link startApp} on `platform`, with `controllers` unless given others, and every app it
 * started is closed after each test.
 */
export function appsPerTest(platform: Platform, controllers: Type[]) {
  const apps: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
  });
  return async (
    options: Partial<SessionModuleOptions> = {},
    own: Type[] = controllers,
    metadata: Parameters<typeof startApp>[2] = {},
  ): Promise<TestApp> => {
    const t = await startApp(options, own, { platform, ...metadata });
    apps.push(t);
    return t;
  };
}
