import type { Session } from '../lib';

// Declaration merging types session data across the app, as with express-session.
declare module '../lib' {
  interface SessionData {
    userId?: string;
  }
}

/** Compile-time checks: `npm test` type-checks this file before Jest runs it. */
function typed(session: Session<{ views?: number }>): void {
  const userId: string | undefined = session.userId;
  const views: number | undefined = session.views;
  // @ts-expect-error userId is a string
  session.userId = 42;
  // @ts-expect-error id is read-only
  session.id = 'other';
  // @ts-expect-error unknown keys are not data
  session.notDeclared = true;
  void userId;
  void views;
}

describe('typing', () => {
  it('is checked by tsc (see the @ts-expect-error lines)', () => {
    expect(typeof typed).toBe('function');
  });
});
