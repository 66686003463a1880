import { randomBytes } from 'node:crypto';

/** A fresh session id, as a store would be handed one. */
export const sid = () => randomBytes(16).toString('base64url');
