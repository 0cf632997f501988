import { MS_PER_WEEK } from '../jobs.constants.js';
import type { JobMetadata } from './job.decorator.js';
import { JobDefinitionError } from '../errors/job-definition.error.js';
import { describeValue } from '../errors/invalid-options.error.js';
import type { JobOptions } from './job-options.interface.js';
import type {
  ResolvedRetryPolicy,
  RetryPolicy,
} from '../retry/retry-policy.interface.js';
import { checkRetryPolicy, mergeRetryPolicies } from '../retry/retry-policy.js';
import {
  checkFunction,
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
  type OptionFailure,
} from '../utils/option-checks.js';

/** What a job gets when neither `@Job()` nor the enqueue call says, written once. */
export const JOB_DEFAULTS = { queue: 'default', maxRetries: 3 } as const;

/** Bounds of `@Job()` and enqueue options. */
export const JOB_LIMITS = {
  maxRetries: 1_000_000,
  timeoutMs: MS_PER_WEEK,
} as const;

const JOB_OPTION_KEYS = optionKeys<JobOptions>({
  name: true,
  queue: true,
  maxRetries: true,
  retry: true,
  timeoutMs: true,
  validate: true,
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
        : checkInteger(
            'maxRetries',
            options.maxRetries,
            0,
            JOB_LIMITS.maxRetries,
            fail,
          ),
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
