/**
 * Run as a script by default-options.e2e-spec.ts, in a process of its own (Jest's sandbox never
 * hears Node's own warnings): `node -r ts-node/register/transpile-only default-options.child.ts
 * <express-session | tessera>`. Makes the library's middleware without `resave` and
 * `saveUninitialized`, serves two requests, and prints as JSON what it was warned and saw.
 */
import express from 'express';
import expressSession from 'express-session';
import type { AddressInfo } from 'node:net';
import session from '../../lib/express';
import { MemoryStore } from '../../lib/stores/memory.store';

interface Heard {
  name: string;
  message: string;
  code?: string;
}

async function main(): Promise<void> {
  const heard: Heard[] = [];
  const hear = (warning: Error & { code?: string }) =>
    heard.push({ name: warning.name, message: warning.message, code: warning.code });
  // Node's warnings (Tessera), and depd's deprecations (express-session): both heard, not printed.
  process.on('warning', hear);
  process.on('deprecation', hear);
  const library = process.argv[2] === 'tessera' ? session : expressSession;

  const store = new MemoryStore({ sweepInterval: 0 });
  let writes = 0;
  for (const method of ['set', 'patch'] as const) {
    const write = store[method].bind(store) as (...args: unknown[]) => unknown;
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      writes++;
      return write(...args);
    };
  }
  const middleware = library({ secret: 'keyboard cat', store: store as never });
  // Made a second time: the warnings are said once.
  library({ secret: 'keyboard cat', store: store as never });

  const app = express();
  app.use(middleware as express.RequestHandler);
  app.get('/nothing', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/read', (req, res) => {
    res.json({ id: req.sessionID });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const first = await fetch(`${url}/nothing`);
  const setCookie = first.headers.get('set-cookie');
  const stored = (await store.ids()).length;
  writes = 0;
  const cookie = setCookie!.split(';')[0]!;
  for (let i = 0; i < 2; i++) await fetch(`${url}/read`, { headers: { cookie } });
  await new Promise((resolve) => setImmediate(resolve));
  server.close();
  store.close();
  console.log(JSON.stringify({ heard, cookie: setCookie !== null, stored, writes }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
