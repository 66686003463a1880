import type { Response } from 'supertest';
import type { Gate } from '../src/gate.controller';
import type { TestApp } from './app';

let serial = 0;

/**
 * Sends `path` (a route of GateController: `set` or `unset/<key>`) to `app` with `cookie` and
 * `body`, and resolves once the request holds its loaded session at `gate`. The function it
 * resolves to lets the request go on and change the session, and resolves to its response.
 */
export async function holdAtGate(
  gate: Gate,
  app: TestApp,
  cookie: string,
  path: string,
  body: object = {},
): Promise<() => Promise<Response>> {
  const name = `request-${++serial}`;
  const response = app
    .http()
    .post(`/gated/${name}/${path}`)
    .set('Cookie', cookie)
    .send(body)
    .then((res) => res);
  await gate.arrived(name);
  return async () => {
    gate.release(name);
    return response;
  };
}
