import {
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { JobAttemptInfo } from './jobs-events.interface.js';
import { JobsEvents } from './jobs-events.js';

/**
 * The per-job log lines, as one subscriber of the events (what Oban calls the default
 * logger): claims and completions at debug level, retries and lease trouble as warnings,
 * jobs that failed for good as errors. The debug lines subscribe only when the debug level
 * is enabled at start-up, so an application that turns it off pays nothing per job.
 */
@Injectable()
export class JobLogSubscriber implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('JobsWorker');
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly events: JobsEvents) {}

  onModuleInit(): void {
    const on = this.events.on.bind(this.events);
    if (Logger.isLevelEnabled('debug')) {
      this.unsubscribe.push(
        on('job.claimed', ({ job }) => {
          if (Logger.isLevelEnabled('debug'))
            this.logger.debug(`Claimed job ${attemptLabel(job)}`);
        }),
        on('job.completed', ({ job }) => {
          if (Logger.isLevelEnabled('debug'))
            this.logger.debug(`Completed job ${attemptLabel(job)}`);
        }),
      );
    }
    this.unsubscribe.push(
      on('job.retried', ({ job, errorText, retryInMs }) =>
        this.logger.warn(
          `Job ${job.id} (${job.name}) attempt ${job.attempt} failed, retry in ${retryInMs} ms${traceSuffix(job)}: ${firstLine(errorText)}`,
        ),
      ),
      on('job.failed', ({ job, errorText }) =>
        this.logger.error(
          `Job ${job.id} (${job.name}) failed for good at attempt ${job.attempt}${traceSuffix(job)}: ${firstLine(errorText)}`,
        ),
      ),
      on('job.lease-lost', ({ job }) =>
        this.logger.warn(
          `Lost the lease of job ${job.id} (${job.name}) attempt ${job.attempt}; it may run again elsewhere`,
        ),
      ),
      on('job.rescued', ({ jobs }) => {
        for (const job of jobs) {
          this.logger.warn(
            `Rescued job ${job.id} (${job.name}) whose lease expired during attempt ${job.attempt}: now ${job.status}`,
          );
        }
      }),
      on('job.released', ({ jobs }) =>
        this.logger.warn(
          `Shutdown timeout: returned ${jobs.length} unfinished job(s) to pending`,
        ),
      ),
    );
  }

  // Not onModuleDestroy: the worker drains later (beforeApplicationShutdown) and logs meanwhile.
  onApplicationShutdown(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }
}

function attemptLabel(job: JobAttemptInfo): string {
  return `${job.id} (${job.name}) attempt ${job.attempt}${traceSuffix(job)}`;
}

function traceSuffix(job: JobAttemptInfo): string {
  return job.traceId ? ` [trace ${job.traceId}]` : '';
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}
