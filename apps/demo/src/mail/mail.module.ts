import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../users/user.entity.js';
import { EmailsController } from './emails.controller.js';
import { MailerService } from './mailer.service.js';
import { NewsletterJob } from './newsletter.job.js';

/** The (pretend) mailer, the outbox endpoint and the newsletter job. */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  controllers: [EmailsController],
  providers: [MailerService, NewsletterJob],
  exports: [MailerService],
})
export class MailModule {}
