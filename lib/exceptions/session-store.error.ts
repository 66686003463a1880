export { SessionStoreError, SessionUnavailableError } from '../core/errors';
