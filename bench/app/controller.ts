import { Controller, Get, HttpCode, Post, Req } from '@nestjs/common';

/**
 * What the handlers use of a session: plain data properties and a callback-style
 * `regenerate`. Tessera, express-session and @fastify/session all offer exactly this on
 * `req.session` (Express request or FastifyRequest), so one handler serves every contender and
 * the benchmark compares the libraries, not three different handlers.
 */
interface SessionLike {
  userId?: string;
  count?: number;
  regenerate(callback: (err?: unknown) => void): unknown;
}

interface BenchRequest {
  session: SessionLike;
}

/** Node-style callback to Promise. Not util.promisify: @fastify/session's regenerate also takes a `keys` array first. */
function regenerate(req: BenchRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => (err ? reject(err as Error) : resolve()));
  });
}

let logins = 0;

/** The four scenarios of the benchmark, one route each. */
@Controller()
export class BenchController {
  /** Scenario 1: no cookie, the handler never looks at the session. */
  @Get('plain')
  plain() {
    return { ok: true };
  }

  /** Scenario 2: an existing session, only read. */
  @Get('read')
  read(@Req() req: BenchRequest) {
    return { userId: req.session.userId ?? null };
  }

  /** Scenario 3: an existing session, changed on every request. */
  @Get('write')
  write(@Req() req: BenchRequest) {
    const session = req.session;
    session.count = (session.count ?? 0) + 1;
    return { count: session.count };
  }

  /**
   * Scenario 4: a login. New id (no session fixation), then the user is written. Also how the
   * orchestrator gets the cookie that scenarios 2 and 3 replay.
   */
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: BenchRequest) {
    await regenerate(req);
    // regenerate() replaces req.session in express-session and @fastify/session: read it again.
    const session = req.session;
    session.userId = `user-${++logins}`;
    session.count = 0;
    return { ok: true };
  }
}

/**
 * The ceiling: the same four routes on bare Nest, with no session layer at all, so that each
 * scenario is compared with the bare app on its own route (not every one with `/plain`). The
 * bodies have the shape and about the size of the session routes' answers; the orchestrator
 * sends `/read` and `/write` a cookie of a real one's length, which nothing here parses.
 */
@Controller()
export class BareController {
  @Get('plain')
  plain() {
    return { ok: true };
  }

  @Get('read')
  read() {
    return { userId: 'user-1' };
  }

  @Get('write')
  write() {
    return { count: 1 };
  }

  @Post('login')
  @HttpCode(200)
  login() {
    return { ok: true };
  }
}
