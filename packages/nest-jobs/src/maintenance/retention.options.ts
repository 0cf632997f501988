import { MS_PER_DAY, MS_PER_YEAR } from '../jobs.constants.js';
import {
  checkInteger,
  checkPlainObject,
  optionKeys,
} from '../utils/option-checks.js';
import type { JobsRetentionOptions } from './retention-options.interface.js';

/** How long finished jobs are kept by default, written once. */
export const RETENTION_DEFAULTS = {
  completedMs: 7 * MS_PER_DAY,
  failedMs: 30 * MS_PER_DAY,
  cancelledMs: 30 * MS_PER_DAY,
} as const;

/** Longest retention accepted. */
export const MAX_RETENTION_MS = 100 * MS_PER_YEAR;

/** Retention with defaults applied; `false` keeps that kind forever. */
export interface ResolvedRetention {
  completedMs: number | false;
  failedMs: number | false;
  cancelledMs: number | false;
}

const RETENTION_KEYS = optionKeys<JobsRetentionOptions>({
  completedMs: true,
  failedMs: true,
  cancelledMs: true,
});

/**
 * Validates the `retention` option and applies its defaults. `false` as a whole keeps
 * every finished job (every kind), as the manual's "`retention: false` keeps them forever"
 * reads; per-field `false` keeps one kind.
 */
export function resolveRetention(value: unknown): ResolvedRetention {
  if (value === false)
    return { completedMs: false, failedMs: false, cancelledMs: false };
  const retention = checkPlainObject(
    'retention',
    value ?? {},
    RETENTION_KEYS,
  ) as Record<keyof JobsRetentionOptions, unknown>;
  const age = (key: keyof JobsRetentionOptions): number | false => {
    const given = retention[key];
    if (given === undefined) return RETENTION_DEFAULTS[key];
    if (given === false) return false;
    return checkInteger(`retention.${key}`, given, 0, MAX_RETENTION_MS);
  };
  return {
    completedMs: age('completedMs'),
    failedMs: age('failedMs'),
    cancelledMs: age('cancelledMs'),
  };
}
