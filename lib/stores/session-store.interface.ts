// The contract is the core's (it calls stores through it); stores and apps import it from here.
export type { IndexedSession, SessionStore } from '../core/session-store';
