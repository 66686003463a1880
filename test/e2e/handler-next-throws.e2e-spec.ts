import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '../../lib';
import { resolveSessionOptions } from '../../lib/core/options';
import { SessionEngine } from '../../lib/core/session-engine';
import { createSessionHandler } from '../../lib/http/session.handler';
import { signedCookie } from '../support/app';

/**
 * The session middleware on a bare Node server, whose `next` throws synchronously after a session
 * was loaded: that request must fail on its own (a 500), never as an unhandled rejection of ours.
 */
describe('the session middleware when what follows it throws', () => {
  let server: Server;
  let store: MemoryStore;
  let url: string;
  const errors: string[] = [];

  beforeAll(async () => {
    store = new MemoryStore();
    const options = resolveSessionOptions({ secret: 'test secret: keyboard cat', store });
    const engine = new SessionEngine(options, {
      error: (message) => errors.push(message),
      warn: () => undefined,
    });
    const handler = createSessionHandler(engine, false);
    server = createServer((req, res) =>
      handler(req, res, () => {
        throw new Error('the next middleware broke');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    store.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers 500 for a request whose session was loaded, and logs the cause', async () => {
    await store.set('known-id', {
      user: 'ada',
      cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() },
    });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${url}/`, { headers: { cookie: signedCookie('known-id') } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      }).on('error', reject);
    });
    expect(status).toBe(500);
    expect(errors.join('\n')).toContain('the next middleware broke');
  });
});
