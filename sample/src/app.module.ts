import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { SessionModule, type SessionStore } from '../../lib';
import { AccountController } from './account.controller';
import { AppController } from './app.controller';
import { SAMPLE_STORE, SessionStoreModule } from './session-store.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The store comes from the app's own provider: swapping it touches nothing else.
    SessionModule.forRootAsync({
      imports: [SessionStoreModule.forRoot()],
      inject: [ConfigService, SAMPLE_STORE],
      useFactory: (config: ConfigService, store: SessionStore) => ({
        // Comma-separated: the first signs, all verify (rotation).
        secret: (
          config.get<string>('SESSION_SECRET') ?? 'keyboard cat: set SESSION_SECRET in production'
        ).split(','),
        store,
        cookie: { maxAge: Number(config.get<string>('SESSION_MAX_AGE') ?? 60_000) },
        // Limits the server keeps whatever the cookie says: 30 minutes unused, 8 hours in all.
        idleTimeout: Number(config.get<string>('SESSION_IDLE_TIMEOUT') ?? 30 * 60_000),
        absoluteTimeout: Number(config.get<string>('SESSION_ABSOLUTE_TIMEOUT') ?? 8 * 3_600_000),
        // The signed-in user of a session: indexes sessions by user, for the sessions page.
        userId: (session) => session.user,
        // The stylesheet needs no session: no cookie, no store call.
        ignore: ['/favicon.ico', '/style.css'],
      }),
    }),
  ],
  controllers: [AppController, AccountController],
})
export class AppModule {}
