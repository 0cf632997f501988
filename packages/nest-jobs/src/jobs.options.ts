import type { DataSource } from 'typeorm';
import {
  resolveDatabaseOptions,
  type ResolvedDatabaseOptions,
} from './connections/database.options.js';
import {
  resolveEnqueueOptions,
  type ResolvedEnqueueOptions,
} from './enqueue/enqueue.options.js';
import {
  resolveSchedulesOptions,
  type ResolvedSchedulesOptions,
} from './cron/schedules.options.js';
import type { JobsModuleOptions } from './jobs-module-options.interface.js';
import {
  resolveQueuePolicies,
  type ResolvedQueuePolicies,
} from './queues/queue-policies.options.js';
import {
  resolveRetention,
  type ResolvedRetention,
} from './maintenance/retention.options.js';
import type { ResolvedRetryPolicy } from './retry/retry-policy.interface.js';
import { checkRetryPolicy, mergeRetryPolicies } from './retry/retry-policy.js';
import {
  resolveTableOptions,
  type ResolvedTableOptions,
} from './sql/jobs-table.options.js';
import {
  checkPlainObject,
  optionError,
  optionKeys,
} from './utils/option-checks.js';
import {
  resolveWorkerOptions,
  type ResolvedWorkerOptions,
} from './worker/worker.options.js';

export type { ResolvedWorkerOptions } from './worker/worker.options.js';

/** Module options validated once at start-up, with every default applied. */
export interface ResolvedJobsOptions
  extends ResolvedTableOptions, ResolvedEnqueueOptions {
  dataSource: DataSource | undefined;
  retention: ResolvedRetention;
  retry: ResolvedRetryPolicy;
  worker: ResolvedWorkerOptions;
  database: ResolvedDatabaseOptions;
  schedules: ResolvedSchedulesOptions;
  queuePolicies: ResolvedQueuePolicies;
}

const MODULE_KEYS = optionKeys<JobsModuleOptions>({
  dataSource: true,
  schema: true,
  table: true,
  runMigrations: true,
  maxPayloadBytes: true,
  validateJobNames: true,
  enqueueTimeoutMs: true,
  retention: true,
  retry: true,
  traceIdProvider: true,
  worker: true,
  database: true,
  schedules: true,
  queuePolicies: true,
});

/**
 * Validates the options given to `forRoot`/`forRootAsync` and applies the defaults: each
 * feature resolves its own slice (its defaults and limits live beside its resolver).
 * @throws InvalidJobsOptionError naming the first bad option and its value.
 */
export function resolveJobsOptions(
  raw: JobsModuleOptions | undefined | null,
): ResolvedJobsOptions {
  const options = checkPlainObject(
    '',
    raw ?? {},
    MODULE_KEYS,
  ) as JobsModuleOptions;
  if (options.dataSource !== undefined && !isDataSource(options.dataSource)) {
    throw optionError(
      'dataSource',
      options.dataSource,
      'expected a TypeORM DataSource instance',
    );
  }
  return {
    dataSource: options.dataSource,
    ...resolveTableOptions(options),
    ...resolveEnqueueOptions(options),
    retention: resolveRetention(options.retention),
    retry: mergeRetryPolicies(
      options.retry === undefined
        ? undefined
        : checkRetryPolicy('retry', options.retry),
    ),
    worker: resolveWorkerOptions(options.worker),
    database: resolveDatabaseOptions(options.database),
    schedules: resolveSchedulesOptions(options.schedules),
    queuePolicies: resolveQueuePolicies(options.queuePolicies),
  };
}

/** Duck-typed so that two copies of typeorm in node_modules do not break the check. */
function isDataSource(value: unknown): value is DataSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DataSource).query === 'function' &&
    typeof (value as DataSource).createQueryRunner === 'function' &&
    'driver' in value
  );
}
