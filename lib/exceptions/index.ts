export * from './session-context.error';
export * from './session-gone.error';
export * from './session-reserved-key.error';
export * from './session-serialization.error';
export * from './session-store.error';
