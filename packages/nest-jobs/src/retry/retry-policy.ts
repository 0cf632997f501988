import { DEFAULTS } from '../jobs.constants.js';
import type {
  ResolvedRetryPolicy,
  RetryPolicy,
} from './retry-policy.interface.js';
import {
  checkInteger,
  checkPlainObject,
  optionError,
  type OptionFailure,
} from '../utils/option-checks.js';

const RETRY_TYPES = ['exponential', 'fixed', 'none'] as const;
const RETRY_KEYS = ['type', 'baseMs', 'capMs'] as const;
const ONE_WEEK_MS = 7 * 24 * 3600 * 1000;

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
    checkInteger(`${option}.baseMs`, policy.baseMs, 0, ONE_WEEK_MS, fail);
  if (policy.capMs !== undefined)
    checkInteger(`${option}.capMs`, policy.capMs, 0, ONE_WEEK_MS, fail);
  return policy;
}

/** Layers partial policies over the library default; later layers win field by field. */
export function mergeRetryPolicies(
  ...layers: Array<RetryPolicy | null | undefined>
): ResolvedRetryPolicy {
  const merged: ResolvedRetryPolicy = { ...DEFAULTS.retry };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.type !== undefined) merged.type = layer.type;
    if (layer.baseMs !== undefined) merged.baseMs = layer.baseMs;
    if (layer.capMs !== undefined) merged.capMs = layer.capMs;
  }
  return merged;
}
