import { uuidV7 } from './job-id.js';
import { COLUMN_LIMITS, MS_PER_YEAR } from '../jobs.constants.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import type { EnqueueOptions } from './enqueue-options.interface.js';
import type { RetryPolicy } from '../retry/retry-policy.interface.js';
import {
  effectiveRetryPolicy,
  JOB_DEFAULTS,
  JOB_LIMITS,
  type JobDefinition,
} from '../handlers/job-definition.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { serializePayload } from './payload-serializer.js';
import { checkRetryPolicy } from '../retry/retry-policy.js';
import type { NewJobRow } from '../sql/job-rows.js';
import { currentTraceId } from '../tracing/trace-context.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
} from '../utils/option-checks.js';
import { describeError } from '../utils/describe-error.js';

const ENQUEUE_KEYS = optionKeys<EnqueueOptions>({
  manager: true,
  runAt: true,
  delay: true,
  queue: true,
  maxRetries: true,
  retry: true,
  traceId: true,
});

/** Longest `delay` accepted. */
const MAX_DELAY_MS = 100 * MS_PER_YEAR;

/** A validated row plus what the service needs after the insert. */
export interface PreparedJob {
  readonly row: NewJobRow;
  /** The payload as the caller gave it (for middleware and events; never re-read for the row). */
  readonly payload: unknown;
  /** True when the job is due now, so workers are worth waking. */
  readonly dueNow: boolean;
}

/** What the options of an enqueue call resolve to: the row minus its id and payload. */
export interface JobTemplate {
  readonly name: string;
  readonly definition: JobDefinition | undefined;
  readonly queue: string;
  readonly maxRetries: number;
  readonly runAt: Date | null;
  readonly delayMs: number | null;
  readonly traceId: string | null;
  readonly retryPolicyJson: string | null;
  readonly dueNow: boolean;
}

/**
 * Turns one enqueue call into a row, checking everything before anything is written:
 * options, payload (JSON-only, size, the job's own `validate`), dates and delays.
 * `prefix` locates the item in error messages (e.g. `jobs[3].`).
 */
export function prepareJob(
  name: string,
  definition: JobDefinition | undefined,
  payload: unknown,
  rawOptions: Omit<EnqueueOptions, 'manager'> | undefined,
  module: ResolvedJobsOptions,
  prefix = '',
): PreparedJob {
  return prepareRow(
    prepareTemplate(name, definition, rawOptions, module, prefix),
    payload,
    module,
  );
}

/** Checks the options of an enqueue call once, for every payload it carries. */
export function prepareTemplate(
  name: string,
  definition: JobDefinition | undefined,
  rawOptions: Omit<EnqueueOptions, 'manager'> | undefined,
  module: ResolvedJobsOptions,
  prefix = '',
): JobTemplate {
  const options = checkPlainObject(
    prefix.replace(/\.$/, ''),
    rawOptions ?? {},
    ENQUEUE_KEYS,
  ) as EnqueueOptions;
  const { runAt, delayMs } = checkSchedule(options, prefix);
  const retry: RetryPolicy | undefined =
    options.retry === undefined
      ? undefined
      : checkRetryPolicy(`${prefix}retry`, options.retry);
  const policy = effectiveRetryPolicy(module.retry, definition, retry);
  const maxRetries =
    policy.type === 'none'
      ? 0
      : options.maxRetries !== undefined
        ? checkInteger(
            `${prefix}maxRetries`,
            options.maxRetries,
            0,
            JOB_LIMITS.maxRetries,
          )
        : (definition?.maxRetries ?? JOB_DEFAULTS.maxRetries);
  return {
    name,
    definition,
    queue:
      options.queue !== undefined
        ? checkName(`${prefix}queue`, options.queue)
        : (definition?.queue ?? JOB_DEFAULTS.queue),
    maxRetries,
    runAt,
    delayMs,
    traceId: resolveTraceId(options.traceId, module, prefix),
    retryPolicyJson: retry === undefined ? null : JSON.stringify(retry),
    dueNow: runAt === null ? !delayMs : runAt.getTime() <= Date.now(),
  };
}

/** One row of `template` carrying `payload`. */
export function prepareRow(
  template: JobTemplate,
  payload: unknown,
  module: ResolvedJobsOptions,
): PreparedJob {
  const { name, definition } = template;
  // JSON first: validate() should only ever see what a handler could receive.
  const payloadJson = serializePayload(name, payload, module.maxPayloadBytes);
  if (definition?.validate) {
    try {
      definition.validate(payload);
    } catch (error) {
      throw new InvalidPayloadError(
        name,
        'payload',
        `was rejected by the job's validate(): ${describeError(error)}`,
      );
    }
  }
  return {
    row: {
      id: uuidV7(),
      queue: template.queue,
      jobType: name,
      payloadJson,
      maxRetries: template.maxRetries,
      runAt: template.runAt,
      delayMs: template.delayMs,
      traceId: template.traceId,
      retryPolicyJson: template.retryPolicyJson,
    },
    payload,
    dueNow: template.dueNow,
  };
}

function checkSchedule(
  options: EnqueueOptions,
  prefix: string,
): { runAt: Date | null; delayMs: number | null } {
  if (options.runAt !== undefined && options.delay !== undefined) {
    throw new InvalidJobsOptionError(
      `${prefix}delay`,
      options.delay,
      'cannot be combined with runAt; give one of them',
    );
  }
  if (options.runAt !== undefined) {
    if (
      !(options.runAt instanceof Date) ||
      Number.isNaN(options.runAt.getTime())
    ) {
      throw new InvalidJobsOptionError(
        `${prefix}runAt`,
        options.runAt,
        'expected a valid Date',
      );
    }
    return { runAt: options.runAt, delayMs: null };
  }
  if (options.delay !== undefined) {
    return {
      runAt: null,
      delayMs: checkInteger(`${prefix}delay`, options.delay, 0, MAX_DELAY_MS),
    };
  }
  return { runAt: null, delayMs: null };
}

function resolveTraceId(
  explicit: unknown,
  module: ResolvedJobsOptions,
  prefix: string,
): string | null {
  if (explicit !== undefined) {
    if (
      typeof explicit !== 'string' ||
      explicit.length === 0 ||
      explicit.length > COLUMN_LIMITS.traceIdLength
    ) {
      throw new InvalidJobsOptionError(
        `${prefix}traceId`,
        explicit,
        `expected a non-empty string of at most ${COLUMN_LIMITS.traceIdLength} characters`,
      );
    }
    return explicit;
  }
  // An implicit id comes from outside (a request header, a tracer): keep the job, clip the id.
  // An empty context id means "no trace" (a job without one): ask the provider then.
  const implicit = currentTraceId() || module.traceIdProvider?.();
  return typeof implicit === 'string' && implicit.length > 0
    ? implicit.slice(0, COLUMN_LIMITS.traceIdLength)
    : null;
}
