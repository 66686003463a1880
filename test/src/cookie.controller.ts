import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Session } from '../../lib';

type Data = { seen?: boolean; n?: number };

/** Routes that assign the session's cookie attributes, for the cookie-validation suite. */
@Controller('cookie')
export class CookieController {
  /** Makes the cookie a browser-session one: a no-op when it already is. */
  @Post('expires-null')
  @HttpCode(200)
  expiresNull(@Session() session: Session<Data>) {
    session.cookie.expires = null;
    session.seen = true;
    return { expires: session.cookie.expires };
  }

  /** Assigns the expiry the cookie already has. */
  @Post('same-expiry')
  @HttpCode(200)
  sameExpiry(@Session() session: Session<Data>) {
    const { expires } = session.cookie;
    session.cookie.expires = expires;
    session.seen = true;
    return { ok: true };
  }

  /** Sets `SameSite` as the request says, and changes the data so the cookie is sent. */
  @Post('same-site/:value')
  @HttpCode(200)
  sameSite(@Session() session: Session<Data>, @Param('value') value: string) {
    session.cookie.sameSite = value as 'lax';
    session.n = (session.n ?? 0) + 1;
    return { sameSite: session.cookie.sameSite };
  }

  /** Sets the cookie's path from the body, as a careless handler might. */
  @Post('path')
  @HttpCode(200)
  path(@Session() session: Session<Data>, @Body() body: { path: string }) {
    session.cookie.path = body.path;
    session.n = (session.n ?? 0) + 1;
    return { path: session.cookie.path };
  }
}
