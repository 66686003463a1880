import { Controller, Get, Header, HttpCode } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session, SessionService } from '../../lib';
import { escape, page } from './page';
import './session-data';

const STYLESHEET = readFileSync(join(__dirname, 'style.css'), 'utf8');

@Controller()
export class AppController {
  constructor(private readonly sessions: SessionService) {}

  /** The seed's counter. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  counter(@Session() session: Session) {
    if (session.views) {
      session.views++;
      const seconds = Math.round((session.cookie.maxAge ?? 0) / 1000);
      const body = `<p>views: ${session.views - 1}</p><p>expires in: ${seconds} s</p>`;
      return page('Counter', `<section class="card counter">${body}</section>`, session);
    }
    session.views = 1;
    const body = '<p>welcome to the session demo. refresh!</p>';
    return page('Welcome', `<section class="card counter">${body}</section>`, session);
  }

  /**
   * What the session holds. Never its id: the id is the cookie's secret, and whoever reads it
   * can act as this session. A signed-in session shows its handle instead, the name the
   * sessions page knows it by, which is safe to show.
   */
  @Get('me')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async me(@Session() session: Session) {
    const mine = session.user ? await this.sessions.findByUser(session.user) : [];
    const handle = mine.find((s) => s.current)?.handle ?? null;
    const data = JSON.stringify({ handle, data: { ...session }, cookie: session.cookie }, null, 2);
    return page(
      'Session data',
      `<h1>Session data</h1><section class="card"><pre>${escape(data)}</pre></section>` +
        '<p class="hint">Only a signed-in session has a handle: the per-user index names it.</p>',
      session,
    );
  }

  @Get('api/me')
  @HttpCode(200)
  apiMe(@Session() session: Session) {
    return { user: session.user ?? null, views: session.views ?? 0 };
  }

  /** The stylesheet: an ignored path (see app.module.ts), so it costs no session. */
  @Get('style.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  style() {
    return STYLESHEET;
  }
}
