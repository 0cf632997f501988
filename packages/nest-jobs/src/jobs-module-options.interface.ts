import type { DataSource } from 'typeorm';
import type { JobsRetentionOptions } from './maintenance/retention-options.interface.js';
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
  /** Largest accepted payload, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Reject enqueues of names with no `@Job()` handler in this app. Default true; set false
   * in a producer that enqueues jobs handled by another service.
   */
  validateJobNames?: boolean;
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
}
