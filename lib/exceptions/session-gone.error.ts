export { SessionGoneError } from '../core/errors';
