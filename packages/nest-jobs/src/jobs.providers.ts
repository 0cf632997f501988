import type { Provider } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { guardPoolConnectionErrors } from './connections/data-source-pool-guard.js';
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
import { EnqueueNotifier } from './notifications/enqueue-notifier.js';
import { describeJobsTable } from './sql/jobs-table.js';
import { JobsRepository } from './sql/jobs.repository.js';
import { prepareJobsTable } from './sql/migrations/prepare-jobs-table.js';
import { JobsWorker } from './worker/jobs.worker.js';
import { JobsWorkerStatus } from './worker/worker-status.js';

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
  useFactory: async (options: ResolvedJobsOptions, dataSource: DataSource) => {
    const repository = new JobsRepository(
      dataSource,
      describeJobsTable(options.schema, options.table),
    );
    await prepareJobsTable(dataSource, repository, options);
    guardPoolConnectionErrors(dataSource);
    return repository;
  },
  inject: [JOBS_RESOLVED_OPTIONS, JOBS_DATA_SOURCE],
};

const enqueueNotifierProvider: Provider = {
  provide: EnqueueNotifier,
  useFactory: (repository: JobsRepository) => new EnqueueNotifier(repository),
  inject: [JobsRepository],
};

/** Every provider of JobsModule, each feature's in one place. */
export const JOBS_PROVIDERS: Provider[] = [
  resolvedOptionsProvider,
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
  JobsWorker,
  JobsWorkerStatus,
];

/** What an importing module may inject. */
export const JOBS_EXPORTS = [
  JobsService,
  JobsEvents,
  JobsWorkerStatus,
  JobsWorker,
];
