export * from './inject-session-store.decorator';
export * from './session.decorator';
