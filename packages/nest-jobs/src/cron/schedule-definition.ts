import { createHash } from 'node:crypto';
import { InvalidScheduleError } from '../errors/invalid-schedule.error.js';
import { JobsError } from '../errors/jobs.error.js';
import { describeValue } from '../errors/invalid-options.error.js';
import { serializePayload } from '../enqueue/payload-serializer.js';
import { checkPriority, JOB_LIMITS } from '../handlers/job-definition.js';
import { describeError } from '../utils/describe-error.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
  type OptionFailure,
} from '../utils/option-checks.js';
import {
  CronParseProblem,
  parseCronExpression,
  type CronExpression,
} from './cron-expression.js';
import type {
  MissedPolicy,
  NewSchedule,
  OverlapPolicy,
  RecurringOptions,
} from './schedule-options.interface.js';

/** Defaults and bounds of schedules, written once. */
export const SCHEDULE_DEFAULTS = {
  timeZone: 'UTC',
  missed: 'latest',
  missedLimit: 100,
  overlap: 'skip',
  graceMs: 60_000,
  version: 1,
} as const;

export const SCHEDULE_LIMITS = {
  /** A schedule's name, so that its occurrence keys fit a unique key (255 characters). */
  nameLength: 200,
  cronLength: 255,
  missedLimit: 1_000,
  /** A day: later than that an occurrence is missed, whatever the grace. */
  graceMs: 86_400_000,
  version: 2_147_483_647,
} as const;

const MISSED_POLICIES: readonly MissedPolicy[] = ['skip', 'latest', 'all'];
const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'allow'];

/**
 * The settings stored in the schedule's `options` column: what every instance applies to
 * the schedule, whatever its own code says (queue, priority and retries only when given:
 * otherwise the handler's, on the instance that enqueues).
 */
export interface ScheduleSettings {
  readonly queue?: string;
  readonly priority?: number;
  readonly maxRetries?: number;
  readonly missed: MissedPolicy;
  readonly missedLimit: number;
  readonly overlap: OverlapPolicy;
  readonly graceMs: number;
}

/** A schedule checked once, as it is stored. */
export interface ScheduleDefinition {
  readonly name: string;
  readonly jobType: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly payloadJson: string;
  readonly settings: ScheduleSettings;
  readonly version: number;
  /** SHA-256 of everything above but the version: equal hashes, equal schedules. */
  readonly hash: string;
  readonly expression: CronExpression;
}

const SCHEDULE_KEYS = optionKeys<NewSchedule & RecurringOptions>({
  name: true,
  job: true,
  cron: true,
  timeZone: true,
  payload: true,
  queue: true,
  priority: true,
  maxRetries: true,
  missed: true,
  missedLimit: true,
  overlap: true,
  graceMs: true,
  version: true,
});

/**
 * Checks a schedule (a `@Recurring()` declaration, or one added or changed at run time)
 * before anything is stored. `where` names the declaring handler, for declared schedules.
 * @throws InvalidScheduleError naming the schedule and the field.
 */
export function defineSchedule(
  input: NewSchedule & Pick<RecurringOptions, 'version'>,
  maxPayloadBytes: number,
  where?: string,
): ScheduleDefinition {
  let rawName: unknown;
  try {
    rawName = input.name;
  } catch (error) {
    throw new InvalidScheduleError(
      '?',
      'schedule',
      `could not be read: ${describeError(error)}`,
      where,
    );
  }
  const name = checkScheduleName(rawName, where);
  const fail: OptionFailure = (field, value, expectation) =>
    new InvalidScheduleError(
      name,
      field,
      `${expectation}, got ${describeValue(value)}`,
      where,
    );
  try {
    checkPlainObject('', input, SCHEDULE_KEYS, fail);
    const jobType = checkName('job', input.job, fail);
    const cron = checkCron(input.cron, fail);
    const timeZone =
      input.timeZone === undefined
        ? SCHEDULE_DEFAULTS.timeZone
        : checkName('timeZone', input.timeZone, fail);
    let expression: CronExpression;
    try {
      expression = parseCronExpression(cron, timeZone);
    } catch (error) {
      if (!(error instanceof CronParseProblem)) throw error;
      throw new InvalidScheduleError(
        name,
        error.message.startsWith('has an unknown time zone')
          ? 'timeZone'
          : 'cron',
        `${JSON.stringify(cron)} ${error.message}`,
        where,
      );
    }
    const payloadJson = checkPayload(
      name,
      jobType,
      input,
      maxPayloadBytes,
      where,
    );
    const settings = checkSettings(input, fail);
    const version =
      input.version === undefined
        ? SCHEDULE_DEFAULTS.version
        : checkInteger(
            'version',
            input.version,
            1,
            SCHEDULE_LIMITS.version,
            fail,
          );
    const hash = createHash('sha256')
      .update(JSON.stringify([jobType, cron, timeZone, payloadJson, settings]))
      .digest('hex');
    return {
      name,
      jobType,
      cron,
      timeZone,
      payloadJson,
      settings,
      version,
      hash,
      expression,
    };
  } catch (error) {
    if (error instanceof JobsError) throw error;
    throw new InvalidScheduleError(
      name,
      'options',
      `could not be read: ${describeError(error)}`,
      where,
    );
  }
}

/** Checks a schedule's name (also the key of every run-time call). */
export function checkScheduleName(value: unknown, where?: string): string {
  const name = typeof value === 'string' ? value : String(describeValue(value));
  const fail: OptionFailure = (field, bad, expectation) =>
    new InvalidScheduleError(
      name,
      field,
      `${expectation}, got ${describeValue(bad)}`,
      where,
    );
  checkName('name', value, fail);
  if ((value as string).length > SCHEDULE_LIMITS.nameLength)
    throw fail(
      'name',
      value,
      `expected at most ${SCHEDULE_LIMITS.nameLength} characters`,
    );
  return value as string;
}

function checkCron(value: unknown, fail: OptionFailure): string {
  if (
    typeof value !== 'string' ||
    value.trim().length === 0 ||
    value.length > SCHEDULE_LIMITS.cronLength
  )
    throw fail(
      'cron',
      value,
      `expected a cron expression (a string of at most ${SCHEDULE_LIMITS.cronLength} characters)`,
    );
  return value.trim();
}

function checkPayload(
  name: string,
  jobType: string,
  input: { payload?: unknown },
  maxPayloadBytes: number,
  where: string | undefined,
): string {
  try {
    return serializePayload(jobType, input.payload ?? {}, maxPayloadBytes);
  } catch (error) {
    throw new InvalidScheduleError(
      name,
      'payload',
      describeError(error),
      where,
    );
  }
}

function checkSettings(
  input: NewSchedule,
  fail: OptionFailure,
): ScheduleSettings {
  const settings: {
    -readonly [K in keyof ScheduleSettings]: ScheduleSettings[K];
  } = {
    missed: SCHEDULE_DEFAULTS.missed,
    missedLimit: SCHEDULE_DEFAULTS.missedLimit,
    overlap: SCHEDULE_DEFAULTS.overlap,
    graceMs: SCHEDULE_DEFAULTS.graceMs,
  };
  if (input.queue !== undefined)
    settings.queue = checkName('queue', input.queue, fail);
  if (input.priority !== undefined)
    settings.priority = checkPriority('priority', input.priority, fail);
  if (input.maxRetries !== undefined)
    settings.maxRetries = checkInteger(
      'maxRetries',
      input.maxRetries,
      0,
      JOB_LIMITS.maxRetries,
      fail,
    );
  if (input.missed !== undefined)
    settings.missed = checkChoice(
      'missed',
      input.missed,
      MISSED_POLICIES,
      fail,
    );
  if (input.missedLimit !== undefined)
    settings.missedLimit = checkInteger(
      'missedLimit',
      input.missedLimit,
      1,
      SCHEDULE_LIMITS.missedLimit,
      fail,
    );
  if (input.overlap !== undefined)
    settings.overlap = checkChoice(
      'overlap',
      input.overlap,
      OVERLAP_POLICIES,
      fail,
    );
  if (input.graceMs !== undefined)
    settings.graceMs = checkInteger(
      'graceMs',
      input.graceMs,
      0,
      SCHEDULE_LIMITS.graceMs,
      fail,
    );
  if (settings.missed === 'all' && settings.overlap === 'skip')
    throw fail(
      'missed',
      settings.missed,
      "expected 'skip' or 'latest' unless overlap is 'allow' (without overlap, one job of the schedule waits at a time: only one missed occurrence can run)",
    );
  return settings;
}

function checkChoice<T extends string>(
  field: string,
  value: unknown,
  choices: readonly T[],
  fail: OptionFailure,
): T {
  if (typeof value !== 'string' || !choices.includes(value as T))
    throw fail(field, value, `expected one of ${choices.join(', ')}`);
  return value as T;
}

/**
 * A stored schedule's settings, read back from its row (which anyone with access to the
 * table may have written): a missing field takes its default, a bad one throws.
 */
export function readStoredSettings(
  name: string,
  json: string,
): ScheduleSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new InvalidScheduleError(name, 'options', describeError(error));
  }
  const fail: OptionFailure = (field, value, expectation) =>
    new InvalidScheduleError(
      name,
      field,
      `${expectation}, got ${describeValue(value)} (as stored)`,
    );
  const stored = checkPlainObject(
    'options',
    parsed,
    [
      'queue',
      'priority',
      'maxRetries',
      'missed',
      'missedLimit',
      'overlap',
      'graceMs',
    ],
    fail,
  );
  return checkSettings(stored as unknown as NewSchedule, fail);
}
