import type { DataSource } from 'typeorm';
import { DEFAULTS } from './jobs.constants.js';
import type { JobsModuleOptions } from './jobs-module-options.interface.js';
import type { ResolvedRetryPolicy } from './retry/retry-policy.interface.js';
import { checkRetryPolicy, mergeRetryPolicies } from './retry/retry-policy.js';
import {
  checkBoolean,
  checkFunction,
  checkIdentifier,
  checkInteger,
  checkName,
  checkPlainObject,
  optionError,
} from './utils/option-checks.js';

/** Worker options with every default applied. */
export interface ResolvedWorkerOptions {
  enabled: boolean;
  /** null: every queue that has a handler in this process. */
  queues: string[] | null;
  concurrency: number;
  queueConcurrency: Record<string, number>;
  batchSize: number;
  pollIntervalMs: number;
  leaseMs: number;
  heartbeatIntervalMs: number;
  recoveryIntervalMs: number;
  shutdownTimeoutMs: number;
  jobTimeoutMs: number;
  cleanupIntervalMs: number;
  connections: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
}

/** Module options validated once at start-up, with every default applied. */
export interface ResolvedJobsOptions {
  dataSource: DataSource | undefined;
  schema: string;
  table: string;
  runMigrations: boolean;
  maxPayloadBytes: number;
  validateJobNames: boolean;
  retention: { completedMs: number | false; failedMs: number | false };
  retry: ResolvedRetryPolicy;
  traceIdProvider: (() => string | undefined) | undefined;
  worker: ResolvedWorkerOptions;
}

const MODULE_KEYS = [
  'dataSource',
  'schema',
  'table',
  'runMigrations',
  'maxPayloadBytes',
  'validateJobNames',
  'retention',
  'retry',
  'traceIdProvider',
  'worker',
] as const;

const WORKER_KEYS = [
  'enabled',
  'queues',
  'concurrency',
  'queueConcurrency',
  'batchSize',
  'pollIntervalMs',
  'leaseMs',
  'heartbeatIntervalMs',
  'recoveryIntervalMs',
  'shutdownTimeoutMs',
  'jobTimeoutMs',
  'cleanupIntervalMs',
  'connections',
] as const;

const ONE_DAY_MS = 24 * 3600 * 1000;
const MAX_CONCURRENCY = 10_000;

/**
 * Validates the options given to `forRoot`/`forRootAsync` and applies the defaults.
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
    schema:
      options.schema === undefined
        ? DEFAULTS.schema
        : checkIdentifier('schema', options.schema),
    table:
      options.table === undefined
        ? DEFAULTS.table
        : checkIdentifier('table', options.table),
    runMigrations:
      options.runMigrations === undefined
        ? DEFAULTS.runMigrations
        : checkBoolean('runMigrations', options.runMigrations),
    maxPayloadBytes:
      options.maxPayloadBytes === undefined
        ? DEFAULTS.maxPayloadBytes
        : checkInteger(
            'maxPayloadBytes',
            options.maxPayloadBytes,
            2,
            256 * 1024 * 1024,
          ),
    validateJobNames:
      options.validateJobNames === undefined
        ? DEFAULTS.validateJobNames
        : checkBoolean('validateJobNames', options.validateJobNames),
    retention: resolveRetention(options.retention),
    retry: mergeRetryPolicies(
      options.retry === undefined
        ? undefined
        : checkRetryPolicy('retry', options.retry),
    ),
    traceIdProvider:
      options.traceIdProvider === undefined
        ? undefined
        : checkFunction<() => string | undefined>(
            'traceIdProvider',
            options.traceIdProvider,
          ),
    worker: resolveWorkerOptions(options.worker),
  };
}

function resolveWorkerOptions(raw: unknown): ResolvedWorkerOptions {
  const worker = checkPlainObject('worker', raw ?? {}, WORKER_KEYS) as Record<
    string,
    unknown
  >;
  const ms = (key: string, fallback: number, min = 1): number =>
    worker[key] === undefined
      ? fallback
      : checkInteger(`worker.${key}`, worker[key], min, ONE_DAY_MS);
  const concurrency =
    worker.concurrency === undefined
      ? DEFAULTS.worker.concurrency
      : checkInteger(
          'worker.concurrency',
          worker.concurrency,
          1,
          MAX_CONCURRENCY,
        );
  const leaseMs = ms('leaseMs', DEFAULTS.worker.leaseMs, 1_000);
  const heartbeatIntervalMs = ms(
    'heartbeatIntervalMs',
    Math.min(DEFAULTS.worker.heartbeatIntervalMs, Math.floor(leaseMs / 3)),
  );
  if (heartbeatIntervalMs >= leaseMs) {
    throw optionError(
      'worker.heartbeatIntervalMs',
      heartbeatIntervalMs,
      `expected less than worker.leaseMs (${leaseMs}) so a running job's lease is renewed before it expires`,
    );
  }
  return {
    enabled:
      worker.enabled === undefined
        ? DEFAULTS.worker.enabled
        : checkBoolean('worker.enabled', worker.enabled),
    queues:
      worker.queues === undefined ? null : resolveQueueList(worker.queues),
    concurrency,
    queueConcurrency: resolveQueueConcurrency(
      worker.queueConcurrency,
      concurrency,
    ),
    batchSize:
      worker.batchSize === undefined
        ? concurrency
        : checkInteger(
            'worker.batchSize',
            worker.batchSize,
            1,
            MAX_CONCURRENCY,
          ),
    pollIntervalMs: ms('pollIntervalMs', DEFAULTS.worker.pollIntervalMs, 10),
    leaseMs,
    heartbeatIntervalMs,
    recoveryIntervalMs: ms(
      'recoveryIntervalMs',
      DEFAULTS.worker.recoveryIntervalMs,
      10,
    ),
    shutdownTimeoutMs: ms(
      'shutdownTimeoutMs',
      DEFAULTS.worker.shutdownTimeoutMs,
      0,
    ),
    jobTimeoutMs: ms('jobTimeoutMs', DEFAULTS.worker.jobTimeoutMs),
    cleanupIntervalMs: ms(
      'cleanupIntervalMs',
      DEFAULTS.worker.cleanupIntervalMs,
      10,
    ),
    connections:
      worker.connections === undefined
        ? DEFAULTS.worker.connections
        : checkInteger('worker.connections', worker.connections, 1, 100),
    reconnectBaseMs: DEFAULTS.worker.reconnectBaseMs,
    reconnectCapMs: DEFAULTS.worker.reconnectCapMs,
  };
}

function resolveRetention(value: unknown): ResolvedJobsOptions['retention'] {
  const retention = checkPlainObject('retention', value ?? {}, [
    'completedMs',
    'failedMs',
  ]) as Record<string, unknown>;
  const age = (key: 'completedMs' | 'failedMs'): number | false => {
    const given = retention[key];
    if (given === undefined) return DEFAULTS.retention[key];
    if (given === false) return false;
    return checkInteger(`retention.${key}`, given, 0, 100 * 365 * ONE_DAY_MS);
  };
  return { completedMs: age('completedMs'), failedMs: age('failedMs') };
}

function resolveQueueList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw optionError(
      'worker.queues',
      value,
      'expected a non-empty array of queue names',
    );
  }
  return [
    ...new Set(
      value.map((queue, index) => checkName(`worker.queues[${index}]`, queue)),
    ),
  ];
}

function resolveQueueConcurrency(
  value: unknown,
  concurrency: number,
): Record<string, number> {
  if (value === undefined) return {};
  const caps = checkPlainObject(
    'worker.queueConcurrency',
    value,
    Object.keys(value as object),
  );
  const resolved: Record<string, number> = {};
  for (const [queue, cap] of Object.entries(caps)) {
    checkName('worker.queueConcurrency (queue name)', queue);
    resolved[queue] = checkInteger(
      `worker.queueConcurrency.${queue}`,
      cap,
      1,
      concurrency,
    );
  }
  return resolved;
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
