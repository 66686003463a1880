/** What the sample keeps in a session, typed across the app by declaration merging. */
declare module '../../lib' {
  interface SessionData {
    /** The seed's counter. */
    views?: number;
    /** The signed-in user's name: the module's `userId` option reads it (see app.module.ts). */
    user?: string;
    /** What the sessions page calls this session: a label given at sign-in, or the browser. */
    device?: string;
    /** A message for the next page of this session, shown once. */
    notice?: string;
  }
}

export {};
