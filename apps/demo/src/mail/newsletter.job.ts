import { Injectable } from '@nestjs/common';
import { Job, type JobContext } from 'nest-jobs';
import { MailerService } from './mailer.service.js';

/** One newsletter email; the job is enqueued once per user by POST /emails/newsletter. */
export interface NewsletterPayload {
  email: string;
  name: string;
  subject: string;
}

/**
 * Sends newsletter emails on the `emails` queue (capped at 2 at a time by the worker
 * options). Unique by recipient and subject in every state: sending the same newsletter
 * twice enqueues nothing the second time. Low priority: welcome emails go first.
 */
@Injectable()
export class NewsletterJob {
  constructor(private readonly mailer: MailerService) {}

  @Job({
    name: 'mail.newsletter',
    queue: 'emails',
    priority: -10,
    unique: {
      by: ['email', 'subject'],
      states: ['pending', 'running', 'completed', 'failed'],
    },
  })
  async send(payload: NewsletterPayload, ctx: JobContext): Promise<void> {
    await this.mailer.send({
      to: payload.email,
      subject: payload.subject,
      body: `Hello ${payload.name}, here is what is new in nest-jobs.`,
      jobId: ctx.id,
      traceId: ctx.traceId,
    });
  }
}
