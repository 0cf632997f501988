/** Metadata key under which `@Job()` stores its options on a method. */
export const JOB_METADATA = 'nest-jobs:job';

/** Metadata key under which `@JobsMiddleware()` stores its options on a class. */
export const JOBS_MIDDLEWARE_METADATA = 'nest-jobs:middleware';

/** Metadata key of `@Recurring()` (the schedules declared on a handler method). */
export const RECURRING_METADATA = 'nest-jobs:recurring';

/** Injection token of the options as given to forRoot / returned by the forRootAsync factory. */
export const JOBS_MODULE_OPTIONS = Symbol('nest-jobs:module-options');

/** Injection token of the DataSource the module works with (an alias, never owned). */
export const JOBS_DATA_SOURCE = Symbol('nest-jobs:data-source');

/** Injection token of the resolved (validated, defaults applied) module options. */
export const JOBS_RESOLVED_OPTIONS = Symbol('nest-jobs:resolved-options');

/**
 * Units of time that defaults and limits are written in. Each feature's defaults and limits
 * live in its own options file (`*.options.ts`), written once there.
 */
export const MS_PER_SECOND = 1_000;
export const MS_PER_MINUTE = 60 * MS_PER_SECOND;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;
export const MS_PER_WEEK = 7 * MS_PER_DAY;
export const MS_PER_YEAR = 365 * MS_PER_DAY;

/**
 * What the table's columns hold (schema.md), checked before anything is sent so PostgreSQL
 * never has to refuse it.
 */
export const COLUMN_LIMITS = {
  /** varchar(255): queue, job_type. */
  nameLength: 255,
  /** varchar(64): trace_id. */
  traceIdLength: 64,
  /** Longest `last_error` kept, in characters: message plus stack, truncated. */
  errorLength: 4_000,
  /** Longest explicit unique key, in characters (unique_key is text; see unique/unique-key.ts). */
  uniqueKeyLength: 255,
  /** Entries kept in `attempt_errors`: the latest failed attempts, oldest dropped first. */
  attemptHistoryLength: 20,
  /** Largest state `ctx.checkpoint` takes, in bytes of JSON. */
  checkpointBytes: 16_384,
  /** Largest value `ctx.progress` takes, in bytes of JSON. */
  progressBytes: 4_096,
} as const;
