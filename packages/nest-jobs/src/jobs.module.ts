import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import {
  JOBS_DATA_SOURCE,
  JOBS_MODULE_OPTIONS,
  JOBS_RESOLVED_OPTIONS,
} from './jobs.constants.js';
import { EnqueueNotifier } from './notifications/enqueue-notifier.js';
import type { JobsModuleOptions } from './jobs-module-options.interface.js';
import { JobHandlerRegistry } from './handlers/job-handler.registry.js';
import { prepareJobsTable } from './sql/migrations/prepare-jobs-table.js';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './jobs.module-definition.js';
import { JobsExplorer } from './jobs.explorer.js';
import {
  resolveJobsOptions,
  type ResolvedJobsOptions,
} from './jobs.options.js';
import { JobsService } from './jobs.service.js';
import { describeJobsTable } from './sql/jobs-table.js';
import { JobsRepository } from './sql/jobs.repository.js';
import { guardPoolConnectionErrors } from './connections/data-source-pool-guard.js';
import { JobsWorker } from './worker/jobs.worker.js';

/**
 * Durable background jobs in the application's PostgreSQL database.
 *
 * ```ts
 * @Module({ imports: [TypeOrmModule.forRoot({...}), JobsModule.forRoot({ worker: { concurrency: 10 } })] })
 * ```
 * or `JobsModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: JOBS_RESOLVED_OPTIONS,
      useFactory: (options: JobsModuleOptions | undefined) =>
        resolveJobsOptions(options),
      inject: [{ token: JOBS_MODULE_OPTIONS, optional: true }],
    },
    {
      provide: JobsRepository,
      useFactory: async (
        options: ResolvedJobsOptions,
        dataSource: DataSource,
      ) => {
        const repository = new JobsRepository(
          dataSource,
          describeJobsTable(options.schema, options.table),
        );
        await prepareJobsTable(dataSource, repository, options);
        guardPoolConnectionErrors(dataSource);
        return repository;
      },
      inject: [JOBS_RESOLVED_OPTIONS, JOBS_DATA_SOURCE],
    },
    {
      provide: EnqueueNotifier,
      useFactory: (repository: JobsRepository) =>
        new EnqueueNotifier(repository),
      inject: [JobsRepository],
    },
    JobHandlerRegistry,
    JobsExplorer,
    JobsService,
    JobsWorker,
  ],
  exports: [JobsService, JobsWorker],
})
export class JobsModule extends ConfigurableModuleClass {
  /** Registers the module; every option is optional, so `forRoot()` works as is. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }
}
