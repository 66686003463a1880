import type { DynamicModule } from '@nestjs/common';
import type { Response } from 'supertest';
import { SessionResolver } from '../src/graphql/session.resolver';
import { InstrumentedStore } from '../support/instrumented-store';
import { sessionCookie, setCookies, startApp, type Platform, type TestApp } from '../support/app';

type Requester = ReturnType<TestApp['http']> | ReturnType<TestApp['browser']>;

/** Posts one GraphQL operation to /graphql and returns its `data`, failing on GraphQL errors. */
async function gql<T = Record<string, unknown>>(
  client: Requester,
  query: string,
  cookie?: string,
): Promise<{ data: T; res: Response }> {
  const req = client.post('/graphql').set('Content-Type', 'application/json');
  if (cookie) req.set('Cookie', cookie);
  const res = await req.send({ query });
  if (res.status !== 200 || res.body.errors) {
    throw new Error(`GraphQL answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return { data: res.body.data as T, res };
}

/** The id a `connect.sid` cookie carries (`s:<id>.<signature>`, URL-encoded). */
function idOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return value.slice(2, value.lastIndexOf('.'));
}

interface View {
  id: string | null;
  user: string | null;
  views: number | null;
  sameAsService: boolean;
}
const VIEW = '{ id user views sameAsService }';

/**
 * What every GraphQL driver must do with sessions, run against a real server: `graphql()` is the
 * app's `GraphQLModule.forRoot(...)` for the driver under test.
 */
export function describeGraphQLSessions(
  title: string,
  platform: Platform,
  graphql: () => DynamicModule,
): void {
  describe(title, () => {
    let t: TestApp;
    let store: InstrumentedStore;
    beforeAll(async () => {
      store = new InstrumentedStore();
      t = await startApp({ store }, [], {
        platform,
        imports: [graphql()],
        providers: [SessionResolver],
      });
    });
    afterAll(async () => {
      await t.close();
      store.close();
    });

    it('@Session() in a query gives the request’s session, and SessionService finds the same object', async () => {
      const { data, res } = await gql<{ me: View }>(t.http(), `{ me ${VIEW} }`);
      expect(data.me.id).toEqual(expect.any(String));
      expect(data.me.user).toBeNull();
      expect(data.me.sameAsService).toBe(true);
      // Nothing was stored in it: no write, no cookie (saveUninitialized is off).
      expect(setCookies(res)['connect.sid']).toBeUndefined();
    });

    it('a mutation’s change is written when the HTTP request ends, with the cookie on the HTTP response', async () => {
      const browser = t.browser();
      const first = await gql<{ count: View }>(browser, `mutation { count ${VIEW} }`);
      expect(first.data.count.views).toBe(1);
      const cookie = sessionCookie(first.res);
      expect(idOf(cookie)).toBe(first.data.count.id);
      const second = await gql<{ count: View }>(browser, `mutation { count ${VIEW} }`);
      expect(second.data.count).toMatchObject({ id: first.data.count.id, views: 2 });
      expect(await store.inner.get(first.data.count.id!)).toMatchObject({ views: 2 });
    });

    it('a mutation logs in (regenerate + user) and a later query sees the user', async () => {
      const browser = t.browser();
      const before = (await gql<{ count: View }>(browser, `mutation { count ${VIEW} }`)).data.count;
      const login = await gql<{ logIn: View }>(browser, `mutation { logIn(user: "ada") ${VIEW} }`);
      const after = login.data.logIn;
      expect(after.id).not.toBe(before.id);
      expect(after).toMatchObject({ user: 'ada', views: null, sameAsService: true });
      // The new id goes out on this very response, and the old record is gone.
      expect(idOf(sessionCookie(login.res))).toBe(after.id);
      expect(await store.inner.get(before.id!)).toBeNull();
      const me = (await gql<{ me: View }>(browser, `{ me ${VIEW} }`)).data.me;
      expect(me).toMatchObject({ id: after.id, user: 'ada' });
    });

    it('a mutation logs out: the record is removed, the cookie cleared, the next query is fresh', async () => {
      const login = await gql<{ logIn: View }>(
        t.http(),
        `mutation { logIn(user: "grace") ${VIEW} }`,
      );
      const cookie = sessionCookie(login.res);
      const out = await gql<{ logOut: boolean }>(t.http(), 'mutation { logOut }', cookie);
      expect(out.data.logOut).toBe(true);
      expect(setCookies(out.res)['connect.sid']).toMatch(
        /^connect\.sid=; .*Expires=Thu, 01 Jan 1970/,
      );
      expect(await store.inner.get(login.data.logIn.id!)).toBeNull();
      const me = (await gql<{ me: View }>(t.http(), `{ me ${VIEW} }`, cookie)).data.me;
      expect(me.user).toBeNull();
      expect(me.id).not.toBe(login.data.logIn.id);
    });
  });
}
