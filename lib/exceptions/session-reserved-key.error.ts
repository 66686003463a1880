export { SessionReservedKeyError } from '../core/errors';
