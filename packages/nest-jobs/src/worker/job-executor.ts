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
    const context = this.createContext(job);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      // Unref'd: a handler that ignores its signal after a shutdown released it must not
      // keep the stopped process alive until its timeout.
      timer = setTimeout(() => {
        const error = new JobTimeoutError(timeoutMs);
        job.abort.abort(error);
        reject(error);
      }, timeoutMs).unref();
    });
    try {
      const run = new Promise((resolve) =>
        resolve(
          runWithTraceId(job.row.traceId ?? '', () =>
            handler.invoke(payload, context),
          ),
        ),
      );
      await Promise.race([run, timedOut]);
      return { kind: 'completed' };
    } catch (error) {
      return { kind: 'failed', error, fatal: error instanceof FatalJobError };
    } finally {
      clearTimeout(timer);
      timedOut.catch(() => undefined);
    }
  }

  private createContext(job: RunningJob): JobContext {
    const { row } = job;
    let logger: JobLogger | undefined;
    return {
      id: row.id,
      name: row.jobType,
      queue: row.queue,
      attempt: row.attempt,
      maxRetries: row.maxRetries,
      traceId: row.traceId,
      createdAt: row.createdAt,
      signal: job.abort.signal,
      // Built on first use: this runs for every job, and most handlers never log.
      get logger() {
        return (logger ??= new JobLogger(row.jobType, row.id));
      },
    };
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
