/**
 * Where a request keeps its sessions once they are made (a `RequestSession`); the response's
 * hold, where its framework's root prototype holds it, is kept on that (see held-state).
 */
export const REQUEST_SESSION = Symbol('tessera:request-session');
