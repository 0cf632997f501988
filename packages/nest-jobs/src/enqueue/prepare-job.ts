import { uuidV7 } from './job-id.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import { JobsError } from '../errors/jobs.error.js';
import type { EnqueueOptions } from './enqueue-options.interface.js';
import type { RetryPolicy } from '../retry/retry-policy.interface.js';
import {
  checkPriority,
  effectiveRetryPolicy,
  JOB_DEFAULTS,
  type JobDefinition,
} from '../handlers/job-definition.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import {
  formatPath,
  binaryPayload,
  serializePayload,
  type PayloadList,
} from './payload-serializer.js';
import { checkRetryPolicy } from '../retry/retry-policy.js';
import {
  checkMaxRetries,
  toStoredMaxRetries,
} from '../retry/unlimited-retries.js';
import type { NewJobRow } from '../sql/job-rows.js';
import { currentTraceId } from '../tracing/trace-context.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
} from '../utils/option-checks.js';
import { describeError } from '../utils/describe-error.js';
import { isThenable } from '../utils/value-checks.js';
import { unsafeCharacter } from '../utils/postgres-text.js';
import {
  checkUniqueOptions,
  uniqueKeyMaker,
  type UniqueSpec,
} from '../unique/unique-key.js';
import { optionError } from '../utils/option-checks.js';
import { MAX_DELAY_MS, MIN_RUN_AT_MS } from '../utils/schedule-limits.js';

const ENQUEUE_KEYS = optionKeys<EnqueueOptions>({
  manager: true,
  runAt: true,
  delay: true,
  queue: true,
  maxRetries: true,
  retry: true,
  traceId: true,
  unique: true,
  priority: true,
  orderingKey: true,
  concurrencyKey: true,
  reserve: true,
});

/**
 * The run_at of a reserved job: later than any real schedule, so the job holds its place as
 * the first of its key without ever coming due, until runNow makes it due.
 */
export const RESERVED_RUN_AT = new Date(Date.UTC(9999, 11, 31));

/** A validated row plus what the service needs after the insert. */
export interface PreparedJob {
  readonly row: NewJobRow;
  /** The payload as the caller gave it (for middleware and events; never re-read for the row). */
  readonly payload: unknown;
  /** True when the job is due now, so workers are worth waking. */
  readonly dueNow: boolean;
  /**
   * Set when the job's `validate` returned a thenable: settles once it did, rejecting with
   * the `InvalidPayloadError`. The caller awaits it before writing anything.
   */
  readonly validation: Promise<void> | undefined;
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
  /**
   * Epoch milliseconds of the enqueue by the module's clock (JobsClock: a test's pinned time
   * or Date.now()): what `dueNow` and a unique period's bucket are computed from.
   */
  readonly nowMs: number;
  /** The job's uniqueness (enqueue option, else the handler's), or null. */
  readonly unique: UniqueSpec | null;
  /** The unique key of a payload of this call (uniqueKeyMaker), or null when not unique. */
  readonly uniqueKeyOf: ((payload: unknown) => string) | null;
  /** Where errors of the options point (`jobs[3].`). */
  readonly prefix: string;
  readonly priority: number;
  /** The job's key in its ordered or key-limited queue, or null (see queueKeyOf). */
  readonly orderingKey: string | null;
  /** Whether that key orders the job (an ordered queue). */
  readonly keySequenced: boolean;
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
  list: PayloadList = undefined,
  index = -1,
  nowMs = Date.now(),
): PreparedJob {
  return prepareRow(
    prepareTemplate(name, definition, rawOptions, module, prefix, nowMs),
    payload,
    module,
    list,
    index,
  );
}

/**
 * Checks the options of an enqueue call once, for every payload it carries. An options
 * object that throws when read (a getter, a revoked Proxy) is an `InvalidJobsOptionError`.
 */
export function prepareTemplate(
  name: string,
  definition: JobDefinition | undefined,
  rawOptions: Omit<EnqueueOptions, 'manager'> | undefined,
  module: ResolvedJobsOptions,
  prefix = '',
  /** The enqueue's time by the module's clock (see JobTemplate.nowMs). */
  nowMs = Date.now(),
): JobTemplate {
  try {
    return readTemplate(name, definition, rawOptions, module, prefix, nowMs);
  } catch (error) {
    if (error instanceof JobsError) throw error;
    throw new InvalidJobsOptionError(
      prefix.replace(/\.$/, '') || 'options',
      rawOptions,
      `expected options that can be read, but reading them threw: ${describeError(error)}`,
    );
  }
}

function readTemplate(
  name: string,
  definition: JobDefinition | undefined,
  rawOptions: Omit<EnqueueOptions, 'manager'> | undefined,
  module: ResolvedJobsOptions,
  prefix: string,
  nowMs: number,
): JobTemplate {
  const options = checkPlainObject(
    prefix.replace(/\.$/, ''),
    rawOptions ?? {},
    ENQUEUE_KEYS,
  ) as EnqueueOptions;
  if (options.manager !== undefined) {
    // enqueue() takes manager out before; here it came with one item of enqueueMany(jobs).
    throw new InvalidJobsOptionError(
      `${prefix}manager`,
      options.manager,
      'applies to the whole call, not to one job: give it in the second argument of enqueueMany(jobs, { manager })',
    );
  }
  const reserved = checkReserve(options, prefix);
  const { runAt, delayMs } = reserved
    ? { runAt: RESERVED_RUN_AT, delayMs: null }
    : checkSchedule(options, prefix);
  const retry: RetryPolicy | undefined =
    options.retry === undefined
      ? undefined
      : checkRetryPolicy(`${prefix}retry`, options.retry);
  const policy = effectiveRetryPolicy(module.retry, definition, retry);
  const queue =
    options.queue !== undefined
      ? checkName(`${prefix}queue`, options.queue)
      : (definition?.queue ?? JOB_DEFAULTS.queue);
  const unique =
    options.unique === undefined
      ? (definition?.unique ?? null)
      : checkUniqueOptions(`${prefix}unique`, options.unique, optionError);
  const maxRetries =
    policy.type === 'none'
      ? 0
      : options.maxRetries !== undefined
        ? checkMaxRetries(`${prefix}maxRetries`, options.maxRetries)
        : (definition?.maxRetries ?? JOB_DEFAULTS.maxRetries);
  return {
    name,
    definition,
    queue,
    maxRetries,
    runAt,
    delayMs,
    traceId: resolveTraceId(options.traceId, module, prefix),
    retryPolicyJson: retry === undefined ? null : JSON.stringify(retry),
    dueNow: runAt === null ? !delayMs : runAt.getTime() <= nowMs,
    nowMs,
    unique,
    uniqueKeyOf:
      unique === null
        ? null
        : uniqueKeyMaker(unique, name, `${prefix}unique`, optionError, nowMs),
    prefix,
    priority:
      options.priority !== undefined
        ? checkPriority(`${prefix}priority`, options.priority)
        : (definition?.priority ?? JOB_DEFAULTS.priority),
    ...queueKeyOf(options, queue, unique !== null, module, prefix),
  };
}

/**
 * The key of a job of `queue`: an ordered queue requires `orderingKey`, a keyed one (fair or
 * limited per key) `concurrencyKey`, and any other queue refuses both (a worker of an unordered queue would
 * run keyed jobs side by side); a keyed job cannot be unique.
 */
function queueKeyOf(
  options: EnqueueOptions,
  queue: string,
  unique: boolean,
  module: ResolvedJobsOptions,
  prefix: string,
): { orderingKey: string | null; keySequenced: boolean } {
  const policies = module.queuePolicies;
  const wanted: keyof EnqueueOptions | null = policies.ordered.has(queue)
    ? 'orderingKey'
    : policies.keyed.has(queue)
      ? 'concurrencyKey'
      : null;
  for (const option of ['orderingKey', 'concurrencyKey'] as const) {
    const given = options[option];
    if (option === wanted) {
      if (given === undefined)
        throw new InvalidJobsOptionError(
          `${prefix}${option}`,
          undefined,
          `expected a key: queue "${queue}" is ${option === 'orderingKey' ? 'ordered' : 'keyed'} (queuePolicies), so each of its jobs needs one`,
        );
    } else if (given !== undefined)
      throw new InvalidJobsOptionError(
        `${prefix}${option}`,
        given,
        option === 'orderingKey'
          ? `applies to ordered queues only, and queue "${queue}" is not one (declare queuePolicies: { "${queue}": { ordered: true } })`
          : `applies to keyed queues only, and queue "${queue}" is not one (declare queuePolicies: { "${queue}": { fair: true } }, or keyConcurrency or keyRateLimit)`,
      );
  }
  if (wanted === null) return { orderingKey: null, keySequenced: false };
  const key = checkName(`${prefix}${wanted}`, options[wanted]);
  if (unique)
    throw new InvalidJobsOptionError(
      `${prefix}unique`,
      options.unique ?? "the handler's unique option",
      `cannot be combined with ${wanted}: a keyed job is not unique`,
    );
  return { orderingKey: key, keySequenced: wanted === 'orderingKey' };
}

/**
 * One row of `template` carrying `payload`; `list` and `index` locate the payload in a bulk
 * call's errors (`payloads[3]`, `jobs[3].payload`).
 */
export function prepareRow(
  template: JobTemplate,
  payload: unknown,
  module: ResolvedJobsOptions,
  list: PayloadList = undefined,
  index = -1,
): PreparedJob {
  const { name, definition } = template;
  // JSON (or bytes) first: validate() should only ever see what a handler could receive.
  const payloadBytes = binaryPayload(
    name,
    payload,
    module.maxPayloadBytes,
    list,
    index,
  );
  const payloadJson =
    payloadBytes === null
      ? serializePayload(name, payload, module.maxPayloadBytes, list, index)
      : 'null';
  let validation: Promise<void> | undefined;
  if (definition?.validate) {
    let result: unknown;
    try {
      result = definition.validate(payloadBytes ?? payload);
    } catch (error) {
      throw rejectedPayload(name, list, index, error);
    }
    // yup's validate, Joi's validateAsync: a thenable is a verdict still to come.
    validation = awaitVerdict(result, name, list, index);
  }
  return {
    row: {
      id: uuidV7(),
      queue: template.queue,
      jobType: name,
      payloadJson,
      maxRetries: toStoredMaxRetries(template.maxRetries),
      runAt: template.runAt,
      delayMs: template.delayMs,
      traceId: template.traceId,
      retryPolicyJson: template.retryPolicyJson,
      priority: template.priority,
      payloadBytes,
      uniqueKey:
        template.uniqueKeyOf === null ? null : template.uniqueKeyOf(payload),
      uniqueStates: template.unique === null ? null : template.unique.states,
      orderingKey: template.orderingKey,
      keySequenced: template.keySequenced,
    },
    payload,
    dueNow: template.dueNow,
    validation,
  };
}

function rejectedPayload(
  name: string,
  list: PayloadList,
  index: number,
  error: unknown,
): InvalidPayloadError {
  return new InvalidPayloadError(
    name,
    formatPath([], list, index),
    `was rejected by the job's validate(): ${describeError(error)}`,
  );
}

/**
 * The settled verdict of a `validate` result, or undefined when it is not a thenable. Never
 * lets a rejection go unhandled; a result that throws when its `then` is read (a revoked
 * Proxy, a throwing getter) is a rejection.
 */
function awaitVerdict(
  result: unknown,
  name: string,
  list: PayloadList,
  index: number,
): Promise<void> | undefined {
  let verdict: Promise<void>;
  try {
    if (!isThenable(result)) return undefined;
    // Promise.resolve adopts the thenable; what its `then` throws becomes a rejection.
    verdict = Promise.resolve(result).then(
      () => undefined,
      (error: unknown) => {
        throw rejectedPayload(name, list, index, error);
      },
    );
  } catch (error) {
    verdict = Promise.reject(rejectedPayload(name, list, index, error));
  }
  // Handled now: a later item of the same bulk call may throw before anyone awaits this.
  verdict.catch(() => undefined);
  return verdict;
}

/** Waits for the `validate` verdicts of `prepared`, if any; the first rejection by index wins. */
export async function settleValidations(
  prepared: readonly PreparedJob[],
): Promise<void> {
  let pending: Promise<void>[] | undefined;
  for (const job of prepared) {
    if (job.validation) (pending ??= []).push(job.validation);
  }
  if (!pending) return;
  // allSettled: every verdict is awaited (none left unhandled), then the first failure by position.
  const verdicts = await Promise.allSettled(pending);
  for (const verdict of verdicts) {
    if (verdict.status === 'rejected') throw verdict.reason;
  }
}

/** Whether the job is reserved: `reserve: true`, only with an orderingKey and no schedule. */
function checkReserve(options: EnqueueOptions, prefix: string): boolean {
  if (options.reserve === undefined || options.reserve === false) return false;
  if (options.reserve !== true)
    throw new InvalidJobsOptionError(
      `${prefix}reserve`,
      options.reserve,
      'expected true or false',
    );
  if (options.orderingKey === undefined)
    throw new InvalidJobsOptionError(
      `${prefix}reserve`,
      true,
      "reserves a place in a key's order: it needs an orderingKey (an ordered queue)",
    );
  if (options.runAt !== undefined || options.delay !== undefined)
    throw new InvalidJobsOptionError(
      `${prefix}reserve`,
      true,
      'cannot be combined with runAt or delay: a reserved job runs when it is committed (JobControl.runNow)',
    );
  return true;
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
    const time =
      options.runAt instanceof Date ? options.runAt.getTime() : Number.NaN;
    if (Number.isNaN(time)) {
      throw new InvalidJobsOptionError(
        `${prefix}runAt`,
        options.runAt,
        'expected a valid Date',
      );
    }
    if (time < MIN_RUN_AT_MS) {
      throw new InvalidJobsOptionError(
        `${prefix}runAt`,
        options.runAt,
        'expected a Date PostgreSQL can store (from 4714-11-24 BC on)',
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
    const problem = unsafeCharacter(explicit);
    if (problem !== null) {
      throw new InvalidJobsOptionError(
        `${prefix}traceId`,
        explicit,
        `expected text PostgreSQL can store (contains ${problem})`,
      );
    }
    return explicit;
  }
  // An implicit id comes from outside (a request header, a tracer): it must never cost the
  // job. An empty context id means "no trace" (a job without one): ask the provider then.
  const implicit = currentTraceId() || providedTraceId(module);
  if (typeof implicit !== 'string' || implicit.length === 0) return null;
  // Clipped to the column; an id PostgreSQL would refuse (U+0000, a lone surrogate, also
  // one the clip split) is dropped rather than mangled: a wrong id is worse than none.
  const clipped = implicit.slice(0, COLUMN_LIMITS.traceIdLength);
  return unsafeCharacter(clipped) === null ? clipped : null;
}

/** The `traceIdProvider`'s answer; one that throws counts as no trace id. */
function providedTraceId(module: ResolvedJobsOptions): unknown {
  const provider = module.traceIdProvider;
  if (provider === undefined) return undefined;
  try {
    return provider();
  } catch {
    return undefined;
  }
}
