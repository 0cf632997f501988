import { MS_PER_HOUR, MS_PER_WEEK } from '../jobs.constants.js';
import type {
  ResolvedRetryPolicy,
  RetryPolicy,
} from './retry-policy.interface.js';
import {
  checkInteger,
  checkPlainObject,
  optionError,
  optionKeys,
  type OptionFailure,
} from '../utils/option-checks.js';

const RETRY_TYPES = ['exponential', 'fixed', 'none'] as const;
const RETRY_JITTERS = ['upper-half', 'none'] as const;
const RETRY_KEYS = optionKeys<RetryPolicy>({
  type: true,
  baseMs: true,
  capMs: true,
  jitter: true,
});

/** The module's default retry policy, written once. */
export const RETRY_DEFAULTS: ResolvedRetryPolicy = {
  type: 'exponential',
  baseMs: 1_000,
  capMs: MS_PER_HOUR,
  jitter: 'upper-half',
};

/** Longest base or cap of a retry policy. */
export const MAX_RETRY_DELAY_MS = MS_PER_WEEK;

/** Validates a (partial) retry policy; `option` is its path for error messages. */
export function checkRetryPolicy(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): RetryPolicy {
  const policy = checkPlainObject(
    option,
    value,
    RETRY_KEYS,
    fail,
  ) as RetryPolicy;
  if (policy.type !== undefined && !RETRY_TYPES.includes(policy.type)) {
    throw fail(
      `${option}.type`,
      policy.type,
      `expected one of ${RETRY_TYPES.join(', ')}`,
    );
  }
  if (policy.baseMs !== undefined)
    checkInteger(
      `${option}.baseMs`,
      policy.baseMs,
      0,
      MAX_RETRY_DELAY_MS,
      fail,
    );
  if (policy.capMs !== undefined)
    checkInteger(`${option}.capMs`, policy.capMs, 0, MAX_RETRY_DELAY_MS, fail);
  if (policy.jitter !== undefined && !RETRY_JITTERS.includes(policy.jitter)) {
    throw fail(
      `${option}.jitter`,
      policy.jitter,
      `expected one of ${RETRY_JITTERS.join(', ')}`,
    );
  }
  return policy;
}

/** Layers partial policies over the library default; later layers win field by field. */
export function mergeRetryPolicies(
  ...layers: Array<RetryPolicy | null | undefined>
): ResolvedRetryPolicy {
  const merged: ResolvedRetryPolicy = { ...RETRY_DEFAULTS };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.type !== undefined) merged.type = layer.type;
    if (layer.baseMs !== undefined) merged.baseMs = layer.baseMs;
    if (layer.capMs !== undefined) merged.capMs = layer.capMs;
    if (layer.jitter !== undefined) merged.jitter = layer.jitter;
  }
  return merged;
}
