import { Body, Controller, Get, Header, HttpCode, Post, Redirect } from '@nestjs/common';
import { Session, SessionService } from '../../lib';

declare module '../../lib' {
  interface SessionData {
    views?: number;
    user?: string;
    signedInAt?: string;
  }
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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
      return `<p>views: ${session.views - 1}</p><p>expires in: ${seconds} s</p>${this.nav(session)}`;
    }
    session.views = 1;
    return `welcome to the session demo. refresh!${this.nav(session)}`;
  }

  /** Signs in: a new session id (no fixation), then the user in it. */
  @Post('login')
  @Redirect('/me', 303)
  async login(@Body() body: { user?: string }) {
    const session = await this.sessions.regenerate();
    session.user = (body.user ?? '').trim() || 'anonymous';
    session.signedInAt = new Date().toISOString();
  }

  /** Signs out: the session is destroyed and its cookie cleared. */
  @Post('logout')
  @Redirect('/', 303)
  async logout(@Session() session: Session) {
    await session.destroy();
  }

  /** What the session holds. */
  @Get('me')
  @Header('Content-Type', 'text/html; charset=utf-8')
  me(@Session() session: Session) {
    const data = JSON.stringify(
      { id: session.id, data: { ...session }, cookie: session.cookie },
      null,
      2,
    );
    return `<pre>${escape(data)}</pre>${this.nav(session)}`;
  }

  @Get('api/me')
  @HttpCode(200)
  apiMe(@Session() session: Session) {
    return { user: session.user ?? null, views: session.views ?? 0 };
  }

  private nav(session: Session): string {
    const form = session.user
      ? `<form method="post" action="/logout"><p>signed in as ${escape(session.user)} <button>log out</button></p></form>`
      : '<form method="post" action="/login"><input name="user" placeholder="name"> <button>log in</button></form>';
    return `<hr>${form}<p><a href="/">counter</a> · <a href="/me">session data</a></p>`;
  }
}
