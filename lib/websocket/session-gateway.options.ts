/**
 * How a `@SessionGateway()` treats its connections.
 * @publicApi
 */
export interface SessionGatewayOptions {
  /**
   * What a connection whose handshake carries no valid session cookie gets: none, a forged one,
   * or one naming a session that is gone, expired or bound to another fingerprint.
   * - `'empty'`: a new, empty session, for this connection only (no cookie names it).
   * - `'refuse'`: no connection. socket.io answers the handshake with a `connect_error`
   *   (`Session required`); ws accepts the upgrade, then closes with code 1008.
   *
   * @default 'empty'
   */
  missingSession?: 'empty' | 'refuse';
}

/** The options with their defaults, as the gateway's metadata keeps them. */
export type ResolvedSessionGatewayOptions = Required<SessionGatewayOptions>;

/** Metadata key of a gateway's resolved options. */
export const SESSION_GATEWAY_OPTIONS = 'session:gateway-options';

export function resolveSessionGatewayOptions(
  options: SessionGatewayOptions,
): ResolvedSessionGatewayOptions {
  const { missingSession = 'empty' } = options;
  if (missingSession !== 'empty' && missingSession !== 'refuse') {
    throw new TypeError(
      `@SessionGateway() option "missingSession" must be 'empty' or 'refuse', not ${JSON.stringify(missingSession)}`,
    );
  }
  return { missingSession };
}
