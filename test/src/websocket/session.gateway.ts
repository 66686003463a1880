import {
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { getSession, Session, SessionService } from '../../../lib';
import { getSocketSession, SessionGateway } from '../../../lib/websocket';

type Data = Record<string, unknown>;
export type Transport = 'socket.io' | 'ws';

/** What a handler answers: the session as it saw it. */
export interface SessionReply {
  id: string;
  data: Data;
  /** The very object an earlier message of this connection got. */
  same: boolean;
  /** `SessionService.current()` is this object. */
  viaService: boolean;
  /** The session id the gateway's own handleConnection() saw. */
  atConnection: string | undefined;
}

/** The README's recipe for "authenticated sockets only": a signed-in user or nothing. */
@Injectable()
export class SignedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (getSession<{ user?: string }>(context)?.user !== undefined) return true;
    throw new WsException('Sign in first');
  }
}

/** One message per thing the suites do to a socket's session; each answers `<event>:done`. */
@Injectable() // so that its constructor's parameter types are recorded for the subclasses
abstract class SessionHandlers {
  private readonly seen = new WeakMap<object, object>();
  private readonly connected = new WeakMap<object, string | undefined>();

  constructor(private readonly sessions: SessionService) {}

  handleConnection(client: object): void {
    this.connected.set(client, getSocketSession(client)?.id);
  }

  @SubscribeMessage('read')
  read(@ConnectedSocket() client: object, @Session() session: Session<Data> | undefined) {
    return { event: 'read:done', data: this.reply(client, session) };
  }

  @SubscribeMessage('set')
  set(
    @ConnectedSocket() client: object,
    @Session() session: Session<Data>,
    @MessageBody() body: Data,
  ) {
    Object.assign(session, body);
    return { event: 'set:done', data: this.reply(client, session) };
  }

  @SubscribeMessage('save')
  async save(
    @ConnectedSocket() client: object,
    @Session() session: Session<Data>,
    @MessageBody() body: Data,
  ) {
    Object.assign(session, body);
    await session.save();
    return { event: 'save:done', data: this.reply(client, session) };
  }

  /** Saves through SessionService without naming the session. */
  @SubscribeMessage('service-save')
  async serviceSave(@ConnectedSocket() client: object, @MessageBody() body: Data) {
    const session = this.sessions.current<Data>()!;
    Object.assign(session, body);
    await this.sessions.save();
    return { event: 'service-save:done', data: this.reply(client, session) };
  }

  @SubscribeMessage('reload')
  async reload(@ConnectedSocket() client: object, @Session() session: Session<Data>) {
    await session.reload();
    return { event: 'reload:done', data: this.reply(client, session) };
  }

  @SubscribeMessage('regenerate')
  async regenerate(@ConnectedSocket() client: object, @Session() session: Session<Data>) {
    await session.regenerate();
    session.regenerated = true;
    await session.save();
    return { event: 'regenerate:done', data: this.reply(client, session) };
  }

  @SubscribeMessage('destroy')
  async destroy(@Session() session: Session<Data>) {
    await session.destroy();
    return { event: 'destroy:done', data: { ok: true } };
  }

  private reply(client: object, session: Session<Data> | undefined): SessionReply | null {
    if (!session) return null;
    const earlier = this.seen.get(client);
    this.seen.set(client, session);
    return {
      id: session.id,
      data: { ...session },
      same: earlier === undefined || earlier === session,
      viaService: this.sessions.current() === session,
      atConnection: this.connected.get(client),
    };
  }
}

/**
 * The suites' gateways for one transport. The open one, at the default namespace or path, gives
 * sockets without a valid cookie an empty session; the private one (namespace or path
 * `private`) refuses them and, as the README's recipe, lets only signed-in users talk.
 */
export function sessionGateways(transport: Transport): Type[] {
  @WebSocketGateway()
  @SessionGateway()
  class OpenGateway extends SessionHandlers {}

  // The app's guard written below @SessionGateway(): the session guard still runs first.
  @WebSocketGateway(transport === 'ws' ? { path: '/private' } : { namespace: 'private' })
  @SessionGateway({ missingSession: 'refuse' })
  @UseGuards(SignedInGuard)
  class PrivateGateway extends SessionHandlers {}

  return [OpenGateway, PrivateGateway];
}
