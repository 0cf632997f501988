import { Logger } from '@nestjs/common';
import {
  FatalJobError,
  JobTimeoutError,
  NoHandlerError,
  PayloadDecodeError,
} from '../errors/job-failure.errors.js';
import type { JobContext } from '../interfaces/job-context.interface.js';
import type { RegisteredJob } from '../job-handler.registry.js';
import { runWithTraceId } from '../trace-context.js';
import type { RunningJob } from './running-job.js';
import { describeError } from '../utils/describe-error.js';

/** How an attempt ended, as far as the handler is concerned. */
export type AttemptOutcome =
  | { readonly kind: 'completed' }
  | {
      readonly kind: 'failed';
      readonly error: unknown;
      readonly fatal: boolean;
    };

/**
 * Runs one attempt: decodes the payload, builds the JobContext, calls the handler under its
 * timeout and the job's trace id, and turns whatever happens into an outcome. Never throws.
 */
export class JobExecutor {
  constructor(private readonly defaultTimeoutMs: number) {}

  async execute(
    job: RunningJob,
    handler: RegisteredJob | undefined,
  ): Promise<AttemptOutcome> {
    if (!handler)
      return {
        kind: 'failed',
        error: new NoHandlerError(job.row.jobType),
        fatal: true,
      };
    let payload: unknown;
    try {
      payload = JSON.parse(job.row.payload);
      handler.definition.validate?.(payload);
    } catch (error) {
      const reason = describeError(error);
      return {
        kind: 'failed',
        error: new PayloadDecodeError(`Payload rejected: ${reason}`, {
          cause: error,
        }),
        fatal: true,
      };
    }

    const timeoutMs = handler.definition.timeoutMs ?? this.defaultTimeoutMs;
    const context = new HandlerContext(job);
    let result: unknown;
    try {
      result = runWithTraceId(job.row.traceId ?? '', () =>
        handler.invoke(payload, context),
      );
    } catch (error) {
      return failedWith(error);
    }
    if (!isThenable(result)) return COMPLETED;
    // One promise per attempt, settled by the handler or by its timeout, whichever comes
    // first (no Promise.race: this runs for every job).
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: AttemptOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      // Unref'd: a handler that ignores its signal after a shutdown released it must not
      // keep the stopped process alive until its timeout.
      const timer = setTimeout(() => {
        const error = new JobTimeoutError(timeoutMs);
        job.abort(error);
        settle({ kind: 'failed', error, fatal: false });
      }, timeoutMs).unref();
      result.then(
        () => settle(COMPLETED),
        (error: unknown) => settle(failedWith(error)),
      );
    });
  }
}

const COMPLETED: AttemptOutcome = { kind: 'completed' };

function failedWith(error: unknown): AttemptOutcome {
  return { kind: 'failed', error, fatal: error instanceof FatalJobError };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The JobContext of one attempt. A class, not an object literal with closures: one is
 * built for every job. The signal and the logger are created on first use.
 */
class HandlerContext implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxRetries: number;
  readonly traceId: string | null;
  private jobLogger: JobLogger | undefined;
  private created: Date | undefined;

  constructor(private readonly job: RunningJob) {
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
class JobLogger extends Logger {
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
