import type { DataSource } from 'typeorm';
import type { JobsDatabaseOptions } from './connections/database-options.interface.js';
import type { JobsSchedulesOptions } from './cron/schedules-options.interface.js';
import type { JobsRetentionOptions } from './maintenance/retention-options.interface.js';
import type { QueuePolicy } from './queues/queue-policy.interface.js';
import type { RetryPolicy } from './retry/retry-policy.interface.js';
import type { JobsWorkerOptions } from './worker/worker-options.interface.js';

/** Options of `JobsModule.forRoot()` / the factory of `forRootAsync()`. Every field is optional. */
export interface JobsModuleOptions {
  /**
   * A DataSource instance to use. Default: the DataSource registered in Nest under the
   * `dataSourceToken` module extra (the default @nestjs/typeorm DataSource). Never destroyed
   * by nest-jobs.
   */
  dataSource?: DataSource;
  /** Schema of the jobs table. Default `public`. */
  schema?: string;
  /** Name of the jobs table. Default `nest_jobs`. */
  table?: string;
  /** Run the library's (idempotent) migrations at start-up. Default false. */
  runMigrations?: boolean;
  /**
   * Largest accepted payload, in bytes of JSON. Default 1 MiB; at most 32 MiB (what is
   * sure to fit in one PostgreSQL jsonb value, whose limit is 256 MiB of its own format).
   */
  maxPayloadBytes?: number;
  /**
   * Reject enqueues of names with no `@Job()` handler in this app. Default true; set false
   * in a producer that enqueues jobs handled by another service.
   */
  validateJobNames?: boolean;
  /**
   * Milliseconds an enqueue outside a transaction waits for the database (a connection of
   * the DataSource's pool, then the insert) before it fails with `EnqueueFailedError`; the
   * connection is closed, not reused. Such a job may or may not have been written: the
   * insert may have committed before the answer was lost. Default 15000.
   */
  enqueueTimeoutMs?: number;
  /**
   * How long completed and failed jobs are kept (deleted by the workers' cleanup sweeps).
   * Default: completed 7 days, failed 30 days. `false` keeps every finished job forever.
   */
  retention?: JobsRetentionOptions | false;
  /** Default retry policy of every job. */
  retry?: RetryPolicy;
  /**
   * Supplies the trace id stored with each job when the call gives none and no
   * `runWithTraceId` context is active (e.g. read it from OpenTelemetry).
   */
  traceIdProvider?: () => string | undefined;
  /** The worker of this process. */
  worker?: JobsWorkerOptions;
  /**
   * Behind a transaction pooler (PgBouncer in transaction mode, Supabase, Neon pooled):
   * prepared statements, a direct connection for LISTEN, polling only. See the manual's
   * "Behind PgBouncer, Supabase or Neon".
   */
  database?: JobsDatabaseOptions;
  /**
   * Recurring jobs (`@Recurring()`, JobsSchedules): how often this instance ticks. `false`:
   * this instance fires no schedule (others still do; JobsSchedules still works).
   */
  schedules?: JobsSchedulesOptions | false;
  /**
   * How each named queue delivers its jobs, e.g. `{ payments: { ordered: true } }` (see
   * QueuePolicy). A queue without a policy claims as before, at no cost.
   */
  queuePolicies?: Record<string, QueuePolicy>;
}
