import { Injectable, Logger } from '@nestjs/common';

/** An email as the demo "sends" it. */
export interface SentEmail {
  to: string;
  subject: string;
  body: string;
  /** The job that sent it, and the trace id of the request that caused it. */
  jobId: string;
  traceId: string | null;
  sentAt: Date;
}

/**
 * A stand-in for a real mail provider: it logs each email and keeps it in memory (so the
 * outbox is empty again after a restart), readable through GET /emails. Job handlers
 * receive it by ordinary constructor injection.
 */
@Injectable()
export class MailerService {
  private readonly logger = new Logger(MailerService.name);
  private readonly outbox: SentEmail[] = [];

  async send(email: Omit<SentEmail, 'sentAt'>): Promise<SentEmail> {
    const sent = { ...email, sentAt: new Date() };
    this.outbox.push(sent);
    this.logger.log(
      `Sent "${email.subject}" to ${email.to}` +
        (email.traceId ? ` [trace ${email.traceId}]` : ''),
    );
    return sent;
  }

  /** Emails sent since start-up, oldest first. */
  sent(): readonly SentEmail[] {
    return this.outbox;
  }
}
