import { Controller, Get, Module, Post, HttpCode } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Session, SessionModule, SessionService } from '../../lib';

@Controller()
class CounterController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  views(@Session() session: Session<{ views?: number }>) {
    session.views = (session.views ?? 0) + 1;
    return { views: session.views };
  }

  @Post('login')
  @HttpCode(200)
  async login() {
    const session = await this.sessions.regenerate<{ user?: string }>();
    session.user = 'ada';
    return { id: session.id };
  }

  @Get('me')
  me(@Session() session: Session<{ user?: string }>) {
    return { id: session.id, user: session.user ?? null };
  }
}

describe('on Nest 11 (CommonJS)', () => {
  it('runs the module: counter, regenerate, forRootAsync', async () => {
    // The Nest packages in this run really are 11.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect((require('@nestjs/core/package.json') as { version: string }).version).toMatch(/^11\./);
    @Module({
      imports: [SessionModule.forRootAsync({ useFactory: async () => ({ secret: 'nest 11' }) })],
      controllers: [CounterController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.setGlobalPrefix('v1');
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      const browser = request.agent(url);
      expect((await browser.get('/v1').expect(200)).body).toEqual({ views: 1 });
      expect((await browser.get('/v1').expect(200)).body).toEqual({ views: 2 });
      const before = (await browser.get('/v1/me').expect(200)).body.id;
      const login = await browser.post('/v1/login').expect(200);
      expect(login.body.id).not.toBe(before);
      expect((await browser.get('/v1/me').expect(200)).body).toEqual({
        id: login.body.id,
        user: 'ada',
      });
    } finally {
      await app.close();
    }
  });
});
