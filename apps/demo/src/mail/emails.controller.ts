import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { JobsService } from 'nest-jobs';
import { Repository } from 'typeorm';
import { optionalString } from '../common/input-fields.js';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { User } from '../users/user.entity.js';
import { MailerService, type SentEmail } from './mailer.service.js';
import { NewsletterJob } from './newsletter.job.js';

const parseNewsletter = (input: Record<string, unknown>) => ({
  subject: optionalString(input, 'subject') ?? 'News from nest-jobs',
});

/** GET /emails (the outbox) and POST /emails/newsletter. */
@Controller('emails')
export class EmailsController {
  constructor(
    private readonly mailer: MailerService,
    private readonly jobs: JobsService,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  /** The outbox: every email sent by a job since start-up. */
  @Get()
  list(): readonly SentEmail[] {
    return this.mailer.sent();
  }

  /**
   * One newsletter job per user, inserted in a single statement with `enqueueMany`; a user
   * who already has this subject's job is a duplicate (the job is unique), counted apart.
   */
  @Post('newsletter')
  @HttpCode(202)
  async newsletter(
    @Body(new ParseInputPipe(parseNewsletter)) input: { subject: string },
  ): Promise<{ recipients: number; jobIds: string[]; duplicates: number }> {
    const users = await this.users.find({ order: { createdAt: 'ASC' } });
    const outcomes = await this.jobs.enqueueManyWithOutcome(
      NewsletterJob,
      'send',
      users.map((user) => ({
        email: user.email,
        name: user.name,
        subject: input.subject,
      })),
    );
    return {
      recipients: users.length,
      jobIds: outcomes.map((outcome) => outcome.id),
      duplicates: outcomes.filter((outcome) => outcome.duplicate).length,
    };
  }
}
