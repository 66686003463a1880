export { SessionSerializationError } from '../core/errors';
