import {
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  JobsEvents,
  type JobAttemptInfo,
  type JobsEventMap,
  type JobsEventName,
} from 'nest-jobs';

/** One event as the demo shows it. */
export interface RecentEvent {
  at: string;
  event: JobsEventName;
  jobId?: string;
  job?: string;
  attempt?: number;
  traceId?: string | null;
  detail?: string;
}

const KEPT = 200;

/** Keeps the last events of this process's JobsModule, for GET /events: a subscriber of JobsEvents. */
@Injectable()
export class RecentEventsService
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly recent: RecentEvent[] = [];
  private readonly off: (() => void)[] = [];

  constructor(private readonly events: JobsEvents) {}

  onModuleInit(): void {
    const keep = <K extends JobsEventName>(
      event: K,
      describe: (payload: JobsEventMap[K]) => Omit<RecentEvent, 'at' | 'event'>,
    ) =>
      this.off.push(
        this.events.on(event, (payload) => this.push(event, describe(payload))),
      );
    keep('job.enqueued', ({ jobs, transactional }) => ({
      jobId: jobs[0]?.id,
      job: jobs[0]?.name,
      detail: `${jobs.length} job(s)${transactional ? ', in a transaction' : ''}`,
    }));
    keep('job.started', ({ job }) => attempt(job));
    keep('job.completed', ({ job, durationMs }) => ({
      ...attempt(job),
      detail: `${durationMs.toFixed(1)} ms`,
    }));
    keep('job.retried', ({ job, retryInMs }) => ({
      ...attempt(job),
      detail: `retry in ${retryInMs} ms`,
    }));
    keep('job.failed', ({ job, reason }) => ({
      ...attempt(job),
      detail: reason,
    }));
    keep('job.snoozed', ({ job, delayMs }) => ({
      ...attempt(job),
      detail: `snoozed for ${delayMs} ms`,
    }));
    keep('job.progress', ({ job, value }) => ({
      ...attempt(job),
      detail: `progress ${JSON.stringify(value)}`,
    }));
    keep('job.checkpointed', ({ job, state, inTransaction }) => ({
      ...attempt(job),
      detail: `checkpoint ${JSON.stringify(state)}${inTransaction ? ' (in its transaction)' : ''}`,
    }));
    keep('job.rescued', ({ jobs }) => ({ detail: `${jobs.length} job(s)` }));
  }

  onApplicationShutdown(): void {
    for (const off of this.off.splice(0)) off();
  }

  /** The newest first. */
  list(limit: number): RecentEvent[] {
    return this.recent.slice(-limit).reverse();
  }

  private push(
    event: JobsEventName,
    fields: Omit<RecentEvent, 'at' | 'event'>,
  ) {
    this.recent.push({ at: new Date().toISOString(), event, ...fields });
    if (this.recent.length > KEPT)
      this.recent.splice(0, this.recent.length - KEPT);
  }
}

function attempt(job: JobAttemptInfo) {
  return {
    jobId: job.id,
    job: job.name,
    attempt: job.attempt,
    traceId: job.traceId,
  };
}
