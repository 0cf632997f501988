/**
 * What happens to occurrences that passed while no instance ran (or the schedule's tick was
 * late by more than `graceMs`): `skip` enqueues none of them, `latest` enqueues the latest
 * one (when no occurrence is on time), `all` enqueues them all up to `missedLimit` (the
 * latest ones). On-time occurrences are enqueued under every policy.
 */
export type MissedPolicy = 'skip' | 'latest' | 'all';

/**
 * Whether an occurrence may be enqueued while the schedule's previous job still waits or
 * runs: `skip` (the default) skips it, through the schedule's unique key (so two jobs of one
 * schedule never run at once); `allow` enqueues it (each occurrence has a key of its own).
 */
export type OverlapPolicy = 'skip' | 'allow';

/** Options every schedule has, declared (`@Recurring`) or added at run time. */
export interface ScheduleOptions {
  /** IANA time zone the expression is read in (`Europe/Berlin`). Default `'UTC'`. */
  timeZone?: string;
  /** Payload of every occurrence's job (JSON, checked like an enqueue's). Default `{}`. */
  payload?: unknown;
  /** Queue of the jobs; default the handler's. */
  queue?: string;
  /** Priority of the jobs (-32768 to 32767); default the handler's. */
  priority?: number;
  /** Retries of each job; default the handler's. */
  maxRetries?: number;
  /** Missed occurrences (see MissedPolicy). Default `'latest'`. */
  missed?: MissedPolicy;
  /** For `missed: 'all'`: the most missed occurrences enqueued at once, 1 to 1,000. Default 100. */
  missedLimit?: number;
  /** Overlap with the previous job (see OverlapPolicy). Default `'skip'`. */
  overlap?: OverlapPolicy;
  /**
   * Milliseconds an occurrence may be late at the tick and still count as on time (not
   * missed). Default 60,000.
   */
  graceMs?: number;
}

/** Options of `@Recurring()`. */
export interface RecurringOptions extends ScheduleOptions {
  /**
   * The schedule's name, unique across the application (at most 200 characters). Default
   * the job's name; required when one handler has several `@Recurring()`.
   */
  name?: string;
  /**
   * Version of the declaration, an integer >= 1 (default 1). Raise it when you change the
   * declaration: during a rolling deploy an instance with a lower version never overwrites
   * the stored schedule (see the manual, "Recurring jobs").
   */
  version?: number;
}

/** A schedule added at run time (`JobsSchedules.add`). */
export interface NewSchedule extends ScheduleOptions {
  /** Unique across the application, at most 200 characters. */
  name: string;
  /** Name of the `@Job()` whose jobs it enqueues. */
  job: string;
  /** Cron expression: 5 fields, or 6 with seconds first. */
  cron: string;
}

/** What `JobsSchedules.update` may change; fields not given keep their value. */
export type ScheduleChanges = Partial<Omit<NewSchedule, 'name'>>;
