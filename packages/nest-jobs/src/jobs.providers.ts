import type { Provider } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { JobsClock } from './clock/jobs-clock.js';
import { guardPoolConnectionErrors } from './connections/data-source-pool-guard.js';
import { dedicatedConnectionConfig } from './connections/connection-config.js';
import { detectTransactionPooler } from './connections/pooler-detection.js';
import { JobLogSubscriber } from './events/job-log.subscriber.js';
import { JobsEvents } from './events/jobs-events.js';
import { JobsMiddlewareRegistry } from './events/jobs-middleware.registry.js';
import { JobWriter } from './enqueue/job-writer.js';
import { JobHandlerRegistry } from './handlers/job-handler.registry.js';
import { JobResolver } from './handlers/job-resolver.js';
import {
  JOBS_DATA_SOURCE,
  JOBS_MODULE_OPTIONS,
  JOBS_RESOLVED_OPTIONS,
} from './jobs.constants.js';
import { JobsExplorer } from './jobs.explorer.js';
import type { JobsModuleOptions } from './jobs-module-options.interface.js';
import {
  resolveJobsOptions,
  type ResolvedJobsOptions,
} from './jobs.options.js';
import { JobsService } from './jobs.service.js';
import { JobControl } from './admin/job-control.js';
import { EnqueueNotifier } from './notifications/enqueue-notifier.js';
import { JobsQueueControl } from './queues/queue-control.js';
import { JobsReader } from './admin/jobs-reader.js';
import { describeJobsTable } from './sql/jobs-table.js';
import { JobsRepository } from './sql/jobs.repository.js';
import { prepareJobsTable } from './sql/migrations/prepare-jobs-table.js';
import { StatementNames } from './sql/statement-names.js';
import { JobsWorker } from './worker/jobs.worker.js';
import { JobsWorkerStatus } from './worker/worker-status.js';
import { DeclaredSchedules } from './cron/declared-schedules.js';
import { JobsSchedules } from './cron/jobs-schedules.js';
import { ScheduleRunner } from './cron/schedule-runner.js';
import { ScheduleRepository } from './sql/schedule.repository.js';

/** The module options, validated once, with every default applied. */
const resolvedOptionsProvider: Provider = {
  provide: JOBS_RESOLVED_OPTIONS,
  useFactory: (options: JobsModuleOptions | undefined) =>
    resolveJobsOptions(options),
  inject: [{ token: JOBS_MODULE_OPTIONS, optional: true }],
};

/**
 * The repository of the application's pool, created only once the table is checked (and
 * migrated when asked): nothing can enqueue into a table that is not there.
 */
const repositoryProvider: Provider = {
  provide: JobsRepository,
  useFactory: async (
    options: ResolvedJobsOptions,
    dataSource: DataSource,
    clock: JobsClock,
  ) => {
    const repository = new JobsRepository(
      dataSource,
      describeJobsTable(options.schema, options.table),
      await statementNames(options, dataSource),
      undefined,
      options.enqueueTimeoutMs,
      clock,
    );
    await prepareJobsTable(dataSource, repository, options);
    guardPoolConnectionErrors(dataSource);
    return repository;
  },
  inject: [JOBS_RESOLVED_OPTIONS, JOBS_DATA_SOURCE, JobsClock],
};

/**
 * Names for the statements through the DataSource's route: under `'auto'` switched off at
 * once when a transaction pooler stands in front of it, before start-up's own statements
 * (each restart behind PgBouncer used to die on a name another client had prepared).
 */
async function statementNames(
  options: ResolvedJobsOptions,
  dataSource: DataSource,
): Promise<StatementNames> {
  const names = new StatementNames(options.database.preparedStatements);
  if (names.setting !== 'auto' || !dataSource.isInitialized) return names;
  const pooler = await detectTransactionPooler(
    dedicatedConnectionConfig(dataSource, 'pooler check'),
    options.worker.queryTimeoutMs,
  );
  if (pooler)
    names.disable(
      `Start-up found a transaction pooler in front of the DataSource (${pooler})`,
    );
  return names;
}

const enqueueNotifierProvider: Provider = {
  provide: EnqueueNotifier,
  useFactory: (repository: JobsRepository) => new EnqueueNotifier(repository),
  inject: [JobsRepository],
};

const scheduleRepositoryProvider: Provider = {
  provide: ScheduleRepository,
  useFactory: (repository: JobsRepository) =>
    new ScheduleRepository(repository),
  inject: [JobsRepository],
};

/** Every provider of JobsModule, each feature's in one place. */
export const JOBS_PROVIDERS: Provider[] = [
  resolvedOptionsProvider,
  JobsClock,
  repositoryProvider,
  enqueueNotifierProvider,
  JobsEvents,
  JobLogSubscriber,
  JobsMiddlewareRegistry,
  JobHandlerRegistry,
  JobsExplorer,
  JobResolver,
  JobWriter,
  JobsService,
  JobControl,
  JobsWorker,
  JobsWorkerStatus,
  JobsQueueControl,
  JobsReader,
  scheduleRepositoryProvider,
  DeclaredSchedules,
  ScheduleRunner,
  JobsSchedules,
];

/** What an importing module may inject. */
export const JOBS_EXPORTS = [
  JobsService,
  JobControl,
  JobsEvents,
  JobsWorkerStatus,
  JobsWorker,
  JobsQueueControl,
  JobsReader,
  JobsSchedules,
];
