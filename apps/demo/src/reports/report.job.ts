import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FatalJobError, Job, type JobContext } from 'nest-jobs';
import { Repository } from 'typeorm';
import { countPrimes } from './primes.js';
import { Report } from './report.entity.js';

/** Payload of the report job: the row to fill (created, queued, by POST /reports). */
export interface ReportJobPayload {
  reportId: string;
}

/** Ten chunks of ~120 ms: a report takes about 1.2 s, long enough to watch its progress. */
const STEPS = 10;
const STEP_PAUSE_MS = 120;

/**
 * Builds a report: counts primes chunk by chunk, writing the progress into its row, and
 * stops between chunks when `ctx.signal` fires (timeout, shutdown, lost lease).
 */
@Injectable()
export class ReportJob {
  constructor(
    @InjectRepository(Report) private readonly reports: Repository<Report>,
  ) {}

  @Job({
    name: 'reports.build',
    queue: 'reports',
    maxRetries: 2,
    timeoutMs: 30_000,
  })
  async build(payload: ReportJobPayload, ctx: JobContext): Promise<void> {
    const report = await this.reports.findOneBy({ id: payload.reportId });
    if (!report) {
      // Retrying cannot make the row appear: fail for good at once.
      throw new FatalJobError(`Report ${payload.reportId} does not exist`);
    }
    const started = performance.now();
    await this.reports.update(report.id, {
      status: 'running',
      progress: 0,
      error: null,
      startedAt: new Date(),
    });
    try {
      const counted = await countPrimes(report.upTo, {
        steps: STEPS,
        pauseMs: STEP_PAUSE_MS,
        signal: ctx.signal,
        onProgress: (progress) => this.reports.update(report.id, { progress }),
      });
      await this.reports.update(report.id, {
        status: 'done',
        progress: 100,
        finishedAt: new Date(),
        result: {
          ...counted,
          durationMs: Math.round(performance.now() - started),
          attempt: ctx.attempt,
        },
      });
      ctx.logger.log(
        `Report ${report.id}: ${counted.primes} primes up to ${report.upTo}`,
      );
    } catch (error) {
      const retriesLeft =
        !(error instanceof FatalJobError) && ctx.attempt <= ctx.maxRetries;
      await this.reports.update(report.id, {
        status: retriesLeft ? 'queued' : 'failed',
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }
}
