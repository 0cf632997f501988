import { Logger } from '@nestjs/common';
import type { JobContext } from '../handlers/job-context.interface.js';
import type { HeldAttempt } from './held-attempt.js';

/**
 * The JobContext of one attempt. A class, not an object literal with closures: one is
 * built for every job. The signal and the logger are created on first use.
 */
export class HandlerContext implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxRetries: number;
  readonly traceId: string | null;
  private jobLogger: JobLogger | undefined;
  private created: Date | undefined;

  constructor(private readonly job: HeldAttempt) {
    const { row } = job;
    this.id = row.id;
    this.name = row.jobType;
    this.queue = row.queue;
    this.attempt = row.attempt;
    this.maxRetries = row.maxRetries;
    this.traceId = row.traceId;
  }

  get createdAt(): Date {
    return (this.created ??= new Date(this.job.row.createdAtMs));
  }

  get signal(): AbortSignal {
    return this.job.signal;
  }

  get logger(): JobLogger {
    return (this.jobLogger ??= new JobLogger(this.name, this.id));
  }
}

/** Nest Logger whose context is the job name and whose lines carry the job id. */
export class JobLogger extends Logger {
  constructor(
    name: string,
    private readonly jobId: string,
  ) {
    super(name);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    super.log(this.tag(message), ...rest);
  }
  override error(message: unknown, ...rest: unknown[]): void {
    super.error(this.tag(message), ...rest);
  }
  override warn(message: unknown, ...rest: unknown[]): void {
    super.warn(this.tag(message), ...rest);
  }
  override debug(message: unknown, ...rest: unknown[]): void {
    super.debug(this.tag(message), ...rest);
  }
  override verbose(message: unknown, ...rest: unknown[]): void {
    super.verbose(this.tag(message), ...rest);
  }

  private tag(message: unknown): unknown {
    return typeof message === 'string'
      ? `[job ${this.jobId}] ${message}`
      : message;
  }
}
