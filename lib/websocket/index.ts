/**
 * @tessera/session/websocket: sessions in WebSocket gateways (`@nestjs/websockets`, on socket.io
 * or ws). A separate entry so that apps without gateways never load `@nestjs/websockets`.
 */
export { SessionGateway } from './session-gateway.decorator';
export type { SessionGatewayOptions } from './session-gateway.options';
export { getSocketSession } from './socket-session';
export { WsSessionGuard } from './ws-session.guard';
