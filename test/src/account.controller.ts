import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { Session, SessionService } from '../../lib';

/** The session data of the account routes: who signed in, on which device. */
export interface AccountData {
  userId?: string;
  device?: string;
}

/** The `userId` option these routes go with. */
export const userIdOf = (session: AccountData) => session.userId;

/**
 * A "where you are signed in" page and its buttons, as an app builds them on SessionService's
 * per-user methods: sign in, list the signed-in user's sessions, sign out other devices, one
 * device, everywhere; and an admin's view of another user.
 */
@Controller('account')
export class AccountController {
  constructor(private readonly sessions: SessionService) {}

  /** A login: a new session id, then the user stored in it. */
  @Post('sign-in')
  @HttpCode(200)
  async signIn(
    @Session() session: Session<AccountData>,
    @Body() body: { user: string; device?: string },
  ) {
    const before = session.id;
    await session.regenerate();
    session.userId = body.user;
    if (body.device !== undefined) session.device = body.device;
    return { before, id: session.id };
  }

  /** The session as the app sees it: its id and data. */
  @Get('me')
  me(@Session() session: Session<AccountData>) {
    return { id: session.id, userId: session.userId ?? null, data: { ...session } };
  }

  /** The signed-in user's sessions. */
  @Get('sessions')
  list(@Session() session: Session<AccountData>) {
    return this.sessions.findByUser(this.userOf(session));
  }

  /** Signs out every other device of the signed-in user. */
  @Post('sign-out-others')
  @HttpCode(200)
  async signOutOthers(@Session() session: Session<AccountData>) {
    return {
      ended: await this.sessions.destroyByUser(this.userOf(session), { except: 'current' }),
    };
  }

  /** Signs the user out everywhere, this session included. */
  @Post('sign-out-everywhere')
  @HttpCode(200)
  async signOutEverywhere(@Session() session: Session<AccountData>) {
    return { ended: await this.sessions.destroyByUser(this.userOf(session)) };
  }

  /** Signs out the device whose handle the page showed. */
  @Post('sign-out-device')
  @HttpCode(200)
  async signOutDevice(@Session() session: Session<AccountData>, @Body() body: { handle: string }) {
    return { ended: await this.sessions.destroyByHandle(this.userOf(session), body.handle) };
  }

  /** A logout. */
  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: Session<AccountData>) {
    await session.destroy();
    return { ok: true };
  }

  /** An admin's view: another user's sessions. */
  @Get('users/:user/sessions')
  listOf(@Param('user') user: string) {
    return this.sessions.findByUser(user);
  }

  /** An admin ends every session of another user. */
  @Post('users/:user/sign-out')
  @HttpCode(200)
  async signOutUser(@Param('user') user: string) {
    return { ended: await this.sessions.destroyByUser(user) };
  }

  private userOf(session: Session<AccountData>): string {
    if (session.userId === undefined) throw new UnauthorizedException('Sign in first');
    return session.userId;
  }
}
