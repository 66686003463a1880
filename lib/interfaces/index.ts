export type { SessionCookieOptions, SameSiteOption } from '../core/cookie';
export type { ResolvedSessionOptions, SessionOptions } from '../core/options';
export type { SessionChange, StoredCookie, StoredSession } from '../core/stored-session';
export type { NodeCallback } from '../core/callback';
export type { SessionStore } from '../stores/session-store.interface';
export * from './session-module-options.interface';
