import { Injectable } from '@nestjs/common';
import { Job, type JobContext } from 'nest-jobs';
import { MailerService } from '../mail/mailer.service.js';

/** Payload of the welcome email job, enqueued by POST /users with the new user. */
export interface WelcomeEmailPayload {
  userId: string;
  email: string;
  name: string;
}

/**
 * Sends the welcome email of a new user. The explicit `name` keeps queued jobs runnable if
 * this class or method is renamed; `validate` runs at enqueue (a bad payload is an
 * InvalidPayloadError, nothing is written) and again before the handler runs.
 */
@Injectable()
export class WelcomeEmailJob {
  constructor(private readonly mailer: MailerService) {}

  @Job({
    name: 'users.welcome-email',
    queue: 'emails',
    maxRetries: 5,
    validate: (payload) => {
      const { email } = payload as Partial<WelcomeEmailPayload>;
      if (typeof email !== 'string' || !email.includes('@')) {
        throw new Error('email must be an email address');
      }
    },
  })
  async send(payload: WelcomeEmailPayload, ctx: JobContext): Promise<void> {
    ctx.logger.log(`Welcoming user ${payload.userId} (attempt ${ctx.attempt})`);
    await this.mailer.send({
      to: payload.email,
      subject: `Welcome, ${payload.name}!`,
      body: `Hello ${payload.name}, your account is ready.`,
      jobId: ctx.id,
      traceId: ctx.traceId,
    });
  }
}
