import { Body, Controller, Get, Header, Headers, Post, Redirect } from '@nestjs/common';
import { Session, SessionService, type UserSession } from '../../lib';
import { deviceName, escape, page, time } from './page';
import './session-data';

/** A form field as a short string: a field may be missing, repeated (an array) or too long. */
const field = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 60) : '');

/**
 * Sign-in, sign-out and "where you are signed in". The state changes are POST forms: the
 * session cookie is `SameSite=Lax` (the default), which keeps other sites' forms from posting
 * with it; a real app adds a CSRF token as well.
 */
@Controller()
export class AccountController {
  constructor(private readonly sessions: SessionService) {}

  /** Signs in: a new session id (no fixation), then the user in it. No password: a demo. */
  @Post('login')
  @Redirect('/sessions', 303)
  async login(
    @Body() body: { user?: unknown; device?: unknown },
    @Headers('user-agent') userAgent?: string,
  ) {
    const session = await this.sessions.regenerate();
    session.user = field(body.user) || 'anonymous';
    session.device = field(body.device) || deviceName(userAgent);
  }

  /** Signs out: the session is destroyed and its cookie cleared. */
  @Post('logout')
  @Redirect('/', 303)
  async logout(@Session() session: Session) {
    await session.destroy();
  }

  /** The signed-in user's sessions, this one marked; or the sign-in form. */
  @Get('sessions')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async list(@Session() session: Session) {
    if (!session.user) return page('Sign in', SIGN_IN, session);
    const notice = session.notice;
    if (notice) delete session.notice;
    const mine = await this.sessions.findByUser(session.user);
    const others = mine.length > 1;
    return page(
      'Active sessions',
      `<h1>Active sessions</h1>
${notice ? `<p class="notice">${escape(notice)}</p>` : ''}
<p>Where <strong>${escape(session.user)}</strong> is signed in, most recently active first.</p>
<ul class="sessions">${mine.map((s) => item(s)).join('')}</ul>
${others ? '<form method="post" action="/sessions/sign-out-others"><button class="danger">sign out everywhere else</button></form>' : ''}
<p class="hint">Sign in as the same name from another browser (or a private window) to see it here.
The cookie lasts <code>SESSION_MAX_AGE</code>: one minute by default, so that you can watch
sessions expire; start the demo with <code>SESSION_MAX_AGE=3600000</code> for an hour.</p>`,
      session,
    );
  }

  /** Signs out one device: `handle` names the session; only this user's sessions can be ended. */
  @Post('sessions/sign-out')
  @Redirect('/sessions', 303)
  async signOutDevice(@Session() session: Session, @Body() body: { handle?: unknown }) {
    if (!session.user) return;
    const handle = typeof body.handle === 'string' ? body.handle : '';
    const ended = await this.sessions.destroyByHandle(session.user, handle);
    session.notice = ended ? 'Signed out that device.' : 'That session had already ended.';
  }

  /** Signs out every session of this user but the current one. */
  @Post('sessions/sign-out-others')
  @Redirect('/sessions', 303)
  async signOutOthers(@Session() session: Session) {
    if (!session.user) return;
    const count = await this.sessions.destroyByUser(session.user, { except: 'current' });
    session.notice = `Signed out ${count} other session${count === 1 ? '' : 's'}.`;
  }
}

/** One session of the list: the current one says so, the others have a sign-out button. */
function item(s: UserSession): string {
  const device = typeof s.data.device === 'string' ? s.data.device : 'unknown device';
  const expires = s.expiresAt ? time(s.expiresAt) : 'when the browser closes';
  const times = `signed in ${time(s.createdAt)} · active ${s.current ? 'now' : time(s.lastActiveAt)} · expires ${expires}`;
  const action = s.current
    ? '<span class="badge">this device</span>'
    : `<form method="post" action="/sessions/sign-out"><input type="hidden" name="handle" value="${escape(s.handle)}"><button>sign out this device</button></form>`;
  return `
<li class="session${s.current ? ' current' : ''}"><div><strong class="device">${escape(device)}</strong><p class="times">${times}</p></div>${action}</li>`;
}

const SIGN_IN = `<h1>Sign in</h1>
<form method="post" action="/login" class="card">
<label>Name <input name="user" required maxlength="60" autocomplete="username"></label>
<label>This device <span class="hint">(optional: your browser's name otherwise)</span>
<input name="device" maxlength="60" placeholder="e.g. work laptop"></label>
<button class="primary">sign in</button>
</form>
<p class="hint">No password: this is a demo, and anyone can sign in as any name. Signing in gives
the session a new id (<code>regenerate()</code>), so an id planted before sign-in is useless
after it. Then <em>Active sessions</em> lists every device signed in as you.</p>`;
