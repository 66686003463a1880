import { Body, Controller, Get, HttpCode, Param, Post, Query, Redirect, Req } from '@nestjs/common';
import { Session, SessionService } from '../../lib';
import { sleep } from '../support/time';

type Data = Record<string, unknown>;

/** One route per thing the e2e suites do to a session. */
@Controller()
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  /** The seed's counter. */
  @Get()
  views(@Session() session: Session<{ views?: number }>) {
    session.views = (session.views ?? 0) + 1;
    return { views: session.views, maxAge: session.cookie.maxAge };
  }

  /** Touches nothing: the session is never read. */
  @Get('none')
  none() {
    return 'no session here';
  }

  /** Reads the session without changing it. */
  @Get('read')
  read(@Session() session: Session<Data>) {
    return {
      id: session.id,
      data: { ...session },
      cookie: session.cookie.toJSON(),
      maxAge: session.cookie.maxAge,
    };
  }

  /** Sets the body's keys on the session. */
  @Post('set')
  @HttpCode(200)
  set(@Session() session: Session<Data>, @Body() body: Data) {
    Object.assign(session, body);
    return { id: session.id };
  }

  /** Deletes a key. */
  @Post('unset/:key')
  @HttpCode(200)
  unset(@Session() session: Session<Data>, @Param('key') key: string) {
    delete session[key];
    return { ok: true };
  }

  /** Sets a key after waiting `wait` ms, to overlap with another request. */
  @Post('slow-set')
  @HttpCode(200)
  async slowSet(
    @Session() session: Session<Data>,
    @Body() body: Data,
    @Query('wait') wait = '100',
  ) {
    await sleep(Number(wait));
    Object.assign(session, body);
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  async login(@Session() session: Session<Data>, @Body() body: { user: string }) {
    const before = session.id;
    await session.regenerate();
    session.user = body.user;
    return { before, after: session.id, current: this.sessions.current() === session };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: Session<Data>, @Req() req: { session?: unknown }) {
    await session.destroy();
    return { sessionAfter: req.session === undefined ? 'undefined' : 'defined' };
  }

  /** Sets a key, saves at once, then changes it again. */
  @Post('save')
  @HttpCode(200)
  async save(@Session() session: Session<Data>) {
    session.step = 'saved';
    await session.save();
    return { ok: true };
  }

  @Post('reload')
  @HttpCode(200)
  async reload(@Session() session: Session<Data>) {
    session.scratch = 'not kept';
    await session.reload();
    return { data: { ...session } };
  }

  @Post('touch')
  @HttpCode(200)
  async touch(@Session() session: Session<Data>) {
    await session.touch();
    return { ok: true };
  }

  @Post('max-age/:ms')
  @HttpCode(200)
  maxAge(@Session() session: Session<Data>, @Param('ms') ms: string) {
    session.cookie.maxAge = ms === 'null' ? null : Number(ms);
    return { ok: true };
  }

  @Post('browser-session')
  @HttpCode(200)
  browserSession(@Session() session: Session<Data>) {
    session.cookie.expires = false;
    session.kind = 'browser';
    return { expires: session.cookie.expires };
  }

  @Get('redirect')
  @Redirect('/read', 302)
  redirect(@Session() session: Session<Data>) {
    session.beforeRedirect = true;
  }

  /** Stores a value JSON cannot hold. */
  @Post('unstorable')
  @HttpCode(200)
  unstorable(@Session() session: Session<Data>) {
    session.handler = new Map([['a', 1]]);
    return { ok: true };
  }

  /** Callback forms, as passport uses them. */
  @Post('callbacks')
  @HttpCode(200)
  async callbacks(@Req() req: { session: Session<Data>; sessionID: string }) {
    const first = req.sessionID;
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((err) => (err ? reject(err) : resolve())),
    );
    req.session.viaCallback = true;
    await new Promise<void>((resolve, reject) =>
      req.session.save((err) => (err ? reject(err) : resolve())),
    );
    return { first, second: req.sessionID, id: req.session.id };
  }

  /** reload, touch and destroy in their callback forms. */
  @Post('callbacks-rest')
  @HttpCode(200)
  async callbacksRest(@Req() req: { session: Session<Data> }) {
    const session = req.session;
    const call = (method: 'reload' | 'touch' | 'destroy') =>
      new Promise<string>((resolve) => session[method]((err) => resolve(err ? String(err) : 'ok')));
    session.scratch = 'dropped by reload';
    const reload = await call('reload');
    const dataAfterReload = { ...session };
    const touch = await call('touch');
    const destroy = await call('destroy');
    return { reload, dataAfterReload, touch, destroy };
  }

  /** Uses SessionService without passing the session. */
  @Post('service')
  @HttpCode(200)
  async service() {
    const session = await this.sessions.regenerate<Data>();
    session.viaService = true;
    await this.sessions.save();
    return { id: this.sessions.current()?.id };
  }
}
