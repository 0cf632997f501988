import { MS_PER_WEEK } from '../jobs.constants.js';
import type { JobMetadata } from './job.decorator.js';
import { JobDefinitionError } from '../errors/job-definition.error.js';
import { describeValue } from '../errors/invalid-options.error.js';
import type { JobOptions } from './job-options.interface.js';
import { checkUniqueOptions, type UniqueSpec } from '../unique/unique-key.js';
import type {
  ResolvedRetryPolicy,
  RetryPolicy,
} from '../retry/retry-policy.interface.js';
import { checkRetryPolicy, mergeRetryPolicies } from '../retry/retry-policy.js';
import {
  checkMaxRetries,
  MAX_FINITE_RETRIES,
} from '../retry/unlimited-retries.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
  type OptionFailure,
} from '../utils/option-checks.js';

/** What a job gets when neither `@Job()` nor the enqueue call says, written once. */
export const JOB_DEFAULTS = {
  queue: 'default',
  maxRetries: 3,
  priority: 0,
} as const;

/** Bounds of `@Job()` and enqueue options. */
export const JOB_LIMITS = {
  maxRetries: MAX_FINITE_RETRIES,
  timeoutMs: MS_PER_WEEK,
  /** `priority` is a smallint column. */
  minPriority: -32_768,
  maxPriority: 32_767,
} as const;

/** Checks a `priority` (`@Job()` or enqueue option). */
export function checkPriority(
  option: string,
  value: unknown,
  fail?: OptionFailure,
): number {
  return checkInteger(
    option,
    value,
    JOB_LIMITS.minPriority,
    JOB_LIMITS.maxPriority,
    fail,
  );
}

const JOB_OPTION_KEYS = optionKeys<JobOptions>({
  name: true,
  queue: true,
  maxRetries: true,
  retry: true,
  timeoutMs: true,
  validate: true,
  unique: true,
  priority: true,
  transactional: true,
  transactionTimeoutMs: true,
  checkpointKeepsRetries: true,
});

/** A job as the service and the worker see it: `@Job()` options validated, defaults applied. */
export interface JobDefinition {
  readonly name: string;
  readonly handlerName: string;
  readonly queue: string;
  readonly maxRetries: number;
  /** The handler's own (partial) policy, layered over the module's at failure time. */
  readonly retry: RetryPolicy | undefined;
  readonly timeoutMs: number | undefined;
  readonly validate:
    ((payload: unknown) => void | PromiseLike<unknown>) | undefined;
  /** Uniqueness of the handler's jobs, or null. */
  readonly unique: UniqueSpec | null;
  /** Priority of the handler's jobs (higher: claimed first). */
  readonly priority: number;
  /** The handler runs in a transaction committed with its completion. */
  readonly transactional: boolean;
  /** The handler's own transaction bound, or undefined for the worker's. */
  readonly transactionTimeoutMs: number | undefined;
  /** An attempt that stored a checkpoint gives its retry back. */
  readonly checkpointKeepsRetries: boolean;
}

/**
 * Validates `@Job()` options.
 * @throws JobDefinitionError naming `Class#method`, the option and the bad value.
 */
export function defineJob(metadata: JobMetadata): JobDefinition {
  const fail: OptionFailure = (option, value, expectation) =>
    new JobDefinitionError(
      metadata.handlerName,
      `option "${option}" ${expectation}, got ${describeValue(value)}`,
    );
  const options = checkPlainObject(
    '',
    metadata.options,
    JOB_OPTION_KEYS,
    fail,
  ) as JobOptions;
  return {
    name:
      options.name === undefined
        ? metadata.defaultName
        : checkName('name', options.name, fail),
    handlerName: metadata.handlerName,
    queue:
      options.queue === undefined
        ? JOB_DEFAULTS.queue
        : checkName('queue', options.queue, fail),
    maxRetries:
      options.maxRetries === undefined
        ? JOB_DEFAULTS.maxRetries
        : checkMaxRetries('maxRetries', options.maxRetries, fail),
    retry:
      options.retry === undefined
        ? undefined
        : checkRetryPolicy('retry', options.retry, fail),
    timeoutMs:
      options.timeoutMs === undefined
        ? undefined
        : checkInteger(
            'timeoutMs',
            options.timeoutMs,
            1,
            JOB_LIMITS.timeoutMs,
            fail,
          ),
    validate:
      options.validate === undefined
        ? undefined
        : checkFunction('validate', options.validate, fail),
    unique:
      options.unique === undefined
        ? null
        : checkUniqueOptions('unique', options.unique, fail),
    priority:
      options.priority === undefined
        ? JOB_DEFAULTS.priority
        : checkPriority('priority', options.priority, fail),
    transactional:
      options.transactional === undefined
        ? false
        : checkBoolean('transactional', options.transactional, fail),
    transactionTimeoutMs:
      options.transactionTimeoutMs === undefined
        ? undefined
        : checkInteger(
            'transactionTimeoutMs',
            options.transactionTimeoutMs,
            1,
            JOB_LIMITS.timeoutMs,
            fail,
          ),
    checkpointKeepsRetries:
      options.checkpointKeepsRetries === undefined
        ? false
        : checkBoolean(
            'checkpointKeepsRetries',
            options.checkpointKeepsRetries,
            fail,
          ),
  };
}

/** The policy that applies to one job: module default < handler < enqueue override. */
export function effectiveRetryPolicy(
  moduleDefault: ResolvedRetryPolicy,
  definition: JobDefinition | undefined,
  enqueueOverride: RetryPolicy | null | undefined,
): ResolvedRetryPolicy {
  return mergeRetryPolicies(moduleDefault, definition?.retry, enqueueOverride);
}
