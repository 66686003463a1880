import { Body, Controller, HttpCode, Injectable, Param, Post } from '@nestjs/common';
import { Session } from '../../lib';

type Data = Record<string, unknown>;

interface Held {
  arrived: Promise<void>;
  arrive: () => void;
  released: Promise<void>;
  release: () => void;
}

/**
 * Holds named requests after their session is loaded and before they change it, until the test
 * lets each go: so two requests are sure to have read the same record before either writes,
 * without relying on timing. One gate can be shared by several apps.
 */
@Injectable()
export class Gate {
  private readonly held = new Map<string, Held>();

  /** Resolves once the request named `name` holds its loaded session at the gate. */
  arrived(name: string): Promise<void> {
    return this.entry(name).arrived;
  }

  /** Lets the request named `name` go on and change its session. */
  release(name: string): void {
    this.entry(name).release();
  }

  /** For the controller: waits at the gate. */
  async pass(name: string): Promise<void> {
    const entry = this.entry(name);
    entry.arrive();
    await entry.released;
    this.held.delete(name);
  }

  private entry(name: string): Held {
    let entry = this.held.get(name);
    if (!entry) {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      entry = { arrived, arrive, released, release };
      this.held.set(name, entry);
    }
    return entry;
  }
}

/** Session changes that wait at the {@link Gate} first. */
@Controller('gated/:name')
export class GateController {
  constructor(private readonly gate: Gate) {}

  /** Assigns the body's keys to the session. */
  @Post('set')
  @HttpCode(200)
  async set(@Session() session: Session<Data>, @Param('name') name: string, @Body() body: Data) {
    await this.gate.pass(name);
    Object.assign(session, body);
    return { ok: true };
  }

  /** Deletes a key of the session. */
  @Post('unset/:key')
  @HttpCode(200)
  async unset(
    @Session() session: Session<Data>,
    @Param('name') name: string,
    @Param('key') key: string,
  ) {
    await this.gate.pass(name);
    delete session[key];
    return { ok: true };
  }
}
