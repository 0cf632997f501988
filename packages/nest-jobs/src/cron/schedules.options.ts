import {
  checkInteger,
  checkPlainObject,
  optionKeys,
} from '../utils/option-checks.js';
import type { JobsSchedulesOptions } from './schedules-options.interface.js';

/** Defaults of the `schedules` option, written once. */
export const SCHEDULES_DEFAULTS = {
  pollIntervalMs: 1_000,
  batchSize: 100,
} as const;

/** `schedules` with defaults applied; `enabled: false` when the option was `false`. */
export interface ResolvedSchedulesOptions {
  readonly enabled: boolean;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
}

const SCHEDULES_KEYS = optionKeys<JobsSchedulesOptions>({
  pollIntervalMs: true,
  batchSize: true,
});

/** Validates the `schedules` option and applies its defaults. */
export function resolveSchedulesOptions(
  value: unknown,
): ResolvedSchedulesOptions {
  if (value === false) return { enabled: false, ...SCHEDULES_DEFAULTS };
  const options = checkPlainObject(
    'schedules',
    value ?? {},
    SCHEDULES_KEYS,
  ) as JobsSchedulesOptions;
  return {
    enabled: true,
    pollIntervalMs:
      options.pollIntervalMs === undefined
        ? SCHEDULES_DEFAULTS.pollIntervalMs
        : checkInteger(
            'schedules.pollIntervalMs',
            options.pollIntervalMs,
            10,
            3_600_000,
          ),
    batchSize:
      options.batchSize === undefined
        ? SCHEDULES_DEFAULTS.batchSize
        : checkInteger('schedules.batchSize', options.batchSize, 1, 10_000),
  };
}
