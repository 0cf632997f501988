/** Metadata key under which `@Job()` stores its options on a method. */
export const JOB_METADATA = 'nest-jobs:job';

/** Injection token of the options as given to forRoot / returned by the forRootAsync factory. */
export const JOBS_MODULE_OPTIONS = Symbol('nest-jobs:module-options');

/** Injection token of the DataSource the module works with (an alias, never owned). */
export const JOBS_DATA_SOURCE = Symbol('nest-jobs:data-source');

/** Injection token of the resolved (validated, defaults applied) module options. */
export const JOBS_RESOLVED_OPTIONS = Symbol('nest-jobs:resolved-options');

/** Every default value of the library lives here, once. */
export const DEFAULTS = {
  schema: 'public',
  table: 'nest_jobs',
  queue: 'default',
  maxRetries: 3,
  maxPayloadBytes: 1024 * 1024,
  runMigrations: false,
  validateJobNames: true,
  retention: {
    completedMs: 7 * 24 * 3600 * 1000,
    failedMs: 30 * 24 * 3600 * 1000,
  },
  retry: {
    type: 'exponential',
    baseMs: 1_000,
    capMs: 60 * 60 * 1_000,
  },
  worker: {
    enabled: true,
    concurrency: 20,
    pollIntervalMs: 1_000,
    leaseMs: 60_000,
    heartbeatIntervalMs: 15_000,
    recoveryIntervalMs: 15_000,
    shutdownTimeoutMs: 10_000,
    cleanupIntervalMs: 60_000,
    connections: 3,
    jobTimeoutMs: 15 * 60 * 1_000,
    reconnectBaseMs: 250,
    reconnectCapMs: 10_000,
  },
} as const;

/** Longest `last_error` kept, in characters: message plus stack, truncated. */
export const MAX_ERROR_LENGTH = 4_000;

/** Upper bound of varchar(255) columns (queue, job_type). */
export const MAX_NAME_LENGTH = 255;

/** Upper bound of the varchar(64) `trace_id` column. */
export const MAX_TRACE_ID_LENGTH = 64;
