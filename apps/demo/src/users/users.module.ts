import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MailModule } from '../mail/mail.module.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { WelcomeEmailJob } from './welcome-email.job.js';

/** Sign-up: the users table, its endpoints and the welcome email job. */
@Module({
  imports: [TypeOrmModule.forFeature([User]), MailModule],
  controllers: [UsersController],
  providers: [UsersService, WelcomeEmailJob],
})
export class UsersModule {}
