import type { JobOutcomeRequest } from '../errors/job-outcome-request.js';
import { RescheduleJob } from '../errors/reschedule-job.outcome.js';
import { SnoozeJob } from '../errors/snooze-job.outcome.js';
import { UnknownJobError } from '../errors/unknown-job.error.js';
import type { JobsEvents } from '../events/jobs-events.js';
import type {
  JobHandlerRegistry,
  RegisteredJob,
} from '../handlers/job-handler.registry.js';
import type { JobDefinition } from '../handlers/job-definition.js';
import {
  binaryPayload,
  serializePayload,
} from '../enqueue/payload-serializer.js';
import { uuidV7 } from '../enqueue/job-id.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { serializeCheckpoint } from '../worker/handler-values.js';
import { HeldAttempt } from '../worker/held-attempt.js';
import { JobExecutor, type AttemptOutcome } from '../worker/job-executor.js';
import type { ProgressReports } from '../worker/progress-writer.js';
import { isThenable } from '../utils/value-checks.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
} from '../utils/option-checks.js';

/** The attempt `performJob` pretends to be; every field optional. */
export interface PerformJobOptions {
  /** `ctx.attempt`: 1 for the first attempt (default), 2 for the first retry... */
  attempt?: number;
  /** `ctx.maxRetries`; default the handler's. */
  maxRetries?: number;
  /** `ctx.queue`; default the handler's. */
  queue?: string;
  /** `ctx.traceId` (and the trace context the handler runs in); default null. */
  traceId?: string;
  /**
   * `ctx.lastCheckpoint`: the state an earlier attempt stored (checked as `ctx.checkpoint`
   * checks it); default none. performJob has no row, so `ctx.checkpoint()` and
   * `ctx.complete()` refuse with InvalidJobTransactionError: drain() runs those for real.
   */
  checkpoint?: unknown;
}

/** How a performed handler ended, when it did not fail. */
export interface PerformJobResult<R = unknown> {
  /**
   * `completed`; or what the handler asked for instead (it returned or threw a SnoozeJob,
   * RescheduleJob or RetryJobAfter: `request` holds it).
   */
  readonly outcome: 'completed' | 'snoozed' | 'rescheduled' | 'retry-after';
  /** What the handler returned (resolved), when it completed. */
  readonly value?: Awaited<R>;
  readonly request?: JobOutcomeRequest;
  /** Every value the handler reported with `ctx.progress`, in order. */
  readonly progress: readonly unknown[];
}

const PERFORM_KEYS = [
  'attempt',
  'maxRetries',
  'queue',
  'traceId',
  'checkpoint',
];

/**
 * Runs the handler of `definition` once, in this process, the way the worker runs an
 * attempt (payload through JSON and the handler's `validate`, its timeout, its trace id,
 * middleware, a real JobContext), with no row and no queue. Resolves with how it ended;
 * rejects with what the handler threw (or the timeout's, or the payload's error).
 */
export async function performJob(
  registry: JobHandlerRegistry,
  events: JobsEvents,
  options: ResolvedJobsOptions,
  definition: JobDefinition,
  payload: unknown,
  perform: PerformJobOptions | undefined,
): Promise<PerformJobResult> {
  const registered = registry.get(definition.name);
  if (!registered) throw new UnknownJobError(definition.name, registry.names());
  const attempt = resolvePerform(perform);
  // As an enqueue stores it: bytes as bytes, anything else through JSON.
  const payloadBytes = binaryPayload(
    definition.name,
    payload,
    options.maxPayloadBytes,
  );
  const payloadJson =
    payloadBytes === null
      ? serializePayload(definition.name, payload, options.maxPayloadBytes)
      : 'null';
  const checkpoint =
    perform !== undefined &&
    perform !== null &&
    Object.prototype.hasOwnProperty.call(perform, 'checkpoint')
      ? serializeCheckpoint(definition.name, attempt.checkpoint)
      : null;
  let returned: unknown;
  // Keeps what the handler resolved to, reading its promise (or hostile thenable) once: the
  // executor sees the same settlement it would have seen.
  const watched: RegisteredJob = {
    definition: registered.definition,
    invoke: (value, ctx) => {
      const result = registered.invoke(value, ctx);
      let thenable: boolean;
      try {
        thenable = isThenable(result);
      } catch {
        return result; // the executor fails the attempt with what reading it throws
      }
      if (!thenable) return (returned = result);
      return Promise.resolve(result as PromiseLike<unknown>).then(
        (resolved) => (returned = resolved),
      );
    },
  };
  const progress: unknown[] = [];
  const sink: ProgressReports = {
    report: (_job, json) => progress.push(JSON.parse(json)),
  };
  const job = new HeldAttempt(
    {
      id: uuidV7(),
      queue: attempt.queue ?? definition.queue,
      jobType: definition.name,
      payload: payloadJson,
      attempt: attempt.attempt ?? 1,
      releases: 0,
      maxRetries: attempt.maxRetries ?? definition.maxRetries,
      retryPolicy: null,
      traceId: attempt.traceId ?? null,
      createdAtMs: Date.now(),
      checkpoint,
      payloadBytes,
    },
    performance.now(),
  );
  const outcome = await new Promise<AttemptOutcome>((resolve) => {
    const executor = new JobExecutor(
      options.worker.jobTimeoutMs,
      events,
      (_job, _handler, settled) => {
        executor.stop();
        resolve(settled);
      },
      sink,
    );
    executor.run(job, watched);
  });
  if (outcome.kind === 'failed') throw outcome.error;
  if (outcome.kind === 'requested') {
    const request = outcome.request;
    return {
      outcome:
        request instanceof SnoozeJob
          ? 'snoozed'
          : request instanceof RescheduleJob
            ? 'rescheduled'
            : 'retry-after',
      request,
      progress,
    };
  }
  return { outcome: 'completed', value: returned as never, progress };
}

function resolvePerform(
  perform: PerformJobOptions | undefined,
): PerformJobOptions {
  const raw = checkPlainObject(
    'performJob options',
    perform ?? {},
    PERFORM_KEYS,
  ) as Record<keyof PerformJobOptions, unknown>;
  return {
    attempt:
      raw.attempt === undefined
        ? undefined
        : checkInteger('attempt', raw.attempt, 1),
    maxRetries:
      raw.maxRetries === undefined
        ? undefined
        : checkInteger('maxRetries', raw.maxRetries, 0),
    queue: raw.queue === undefined ? undefined : checkName('queue', raw.queue),
    traceId:
      raw.traceId === undefined ? undefined : checkName('traceId', raw.traceId),
    checkpoint: raw.checkpoint,
  };
}
