import type { ScheduleRow } from '../sql/schedule.repository.js';
import type {
  MissedPolicy,
  OverlapPolicy,
} from './schedule-options.interface.js';

/** A schedule as JobsSchedules and JobsReader list it. */
export interface ScheduleView {
  readonly name: string;
  /** The job it enqueues. */
  readonly job: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly payload: unknown;
  /** Queue, priority and retries when the schedule sets them (else the handler's). */
  readonly queue: string | null;
  readonly priority: number | null;
  readonly maxRetries: number | null;
  readonly missed: MissedPolicy;
  readonly missedLimit: number;
  readonly overlap: OverlapPolicy;
  readonly graceMs: number;
  /** Declared with `@Recurring()` (stored again at each start-up), or added at run time. */
  readonly declared: boolean;
  /** The stored declaration's version (1 for run-time schedules). */
  readonly version: number;
  readonly pausedAt: Date | null;
  /** The next occurrence to enqueue (null: the expression has none left, or the stored schedule is invalid). */
  readonly nextRunAt: Date | null;
  /** The occurrence (or trigger) of the last job enqueued, or null. */
  readonly lastRunAt: Date | null;
  readonly lastJobId: string | null;
  /**
   * Status of the last job: pending, running, completed, failed, cancelled; `removed` when
   * retention (or a delete) removed it; null when none was enqueued yet.
   */
  readonly lastOutcome: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const date = (ms: number | null): Date | null =>
  ms === null ? null : new Date(ms);

/** A stored row as a view; its options are read leniently (a view never throws for a bad row). */
export function toScheduleView(row: ScheduleRow): ScheduleView {
  const options = parseObject(row.options);
  return {
    name: row.name,
    job: row.jobType,
    cron: row.cron,
    timeZone: row.timeZone,
    payload: parseValue(row.payload),
    queue: typeof options.queue === 'string' ? options.queue : null,
    priority: typeof options.priority === 'number' ? options.priority : null,
    maxRetries:
      typeof options.maxRetries === 'number' ? options.maxRetries : null,
    missed: (options.missed as MissedPolicy | undefined) ?? 'latest',
    missedLimit: Number(options.missedLimit ?? 100),
    overlap: (options.overlap as OverlapPolicy | undefined) ?? 'skip',
    graceMs: Number(options.graceMs ?? 60_000),
    declared: row.declared,
    version: row.version,
    pausedAt: date(row.pausedAtMs),
    nextRunAt: date(row.nextRunMs),
    lastRunAt: date(row.lastRunMs),
    lastJobId: row.lastJobId,
    lastOutcome:
      row.lastJobId === null ? null : (row.lastJobStatus ?? 'removed'),
    createdAt: new Date(row.createdAtMs),
    updatedAt: new Date(row.updatedAtMs),
  };
}

function parseValue(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function parseObject(json: string): Record<string, unknown> {
  const value = parseValue(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
