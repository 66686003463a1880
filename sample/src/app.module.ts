import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { SessionModule } from '../../lib';
import { AppController } from './app.controller';
import { sessionOptions } from './session-config';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    SessionModule.forRootAsync({ inject: [ConfigService], useFactory: sessionOptions }),
  ],
  controllers: [AppController],
})
export class AppModule {}
