import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { SessionModule, type SessionStore } from '../../lib';
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
      }),
    }),
  ],
  controllers: [AppController],
})
export class AppModule {}
