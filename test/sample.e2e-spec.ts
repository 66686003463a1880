import { AppModule } from '../sample/src/app.module';
import { startModule, type TestApp } from './support/app';

describe('the sample app', () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.SESSION_STORE = 'memory';
    t = await startModule(AppModule);
  });
  afterAll(() => t.close());

  it('counts views as the seed’s demo does, keeping the cookie across refreshes', async () => {
    const browser = t.browser();
    expect((await browser.get('/').expect(200)).text).toContain(
      'welcome to the session demo. refresh!',
    );
    const second = await browser.get('/').expect(200);
    expect(second.text).toContain('<p>views: 1</p>');
    expect(second.text).toMatch(/<p>expires in: \d+ s<\/p>/);
    expect((await browser.get('/').expect(200)).text).toContain('<p>views: 2</p>');
  });

  it('logs in with a new session id, shows the data, and logs out', async () => {
    const browser = t.browser();
    await browser.get('/').expect(200);
    const before = (await browser.get('/api/me').expect(200)).body;
    expect(before).toEqual({ user: null, views: 1 });
    await browser
      .post('/login')
      .type('form')
      .send({ user: 'ada' })
      .expect(303)
      .expect('Location', '/me');
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: 'ada', views: 0 });
    expect((await browser.get('/me').expect(200)).text).toContain('&#34;user&#34;: &#34;ada&#34;');
    await browser.post('/logout').expect(303);
    expect((await browser.get('/api/me').expect(200)).body).toEqual({ user: null, views: 0 });
  });
});
