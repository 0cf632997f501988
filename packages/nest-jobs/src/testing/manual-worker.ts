import type { TestingModuleBuilder } from '@nestjs/testing';
import {
  JOBS_MODULE_OPTIONS,
  JOBS_RESOLVED_OPTIONS,
} from '../jobs.constants.js';
import type { JobsModuleOptions } from '../jobs-module-options.interface.js';
import {
  resolveJobsOptions,
  type ResolvedJobsOptions,
} from '../jobs.options.js';

/**
 * The testing module of nest-jobs: `builder` (from `Test.createTestingModule`) with every
 * JobsModule's worker in manual mode, whatever the app's options say, so that jobs run only
 * when the test drains them. The app's other options (table, retries, queues) stay as they
 * are; the builder is returned for more overrides.
 *
 * ```ts
 * const moduleRef = await withManualWorker(Test.createTestingModule({ imports: [AppModule] })).compile();
 * const jobs = JobsTesting.from(moduleRef);
 * ```
 */
export function withManualWorker<Builder extends TestingModuleBuilder>(
  builder: Builder,
): Builder {
  builder.overrideProvider(JOBS_RESOLVED_OPTIONS).useFactory({
    factory: (options: JobsModuleOptions | undefined): ResolvedJobsOptions => {
      const resolved = resolveJobsOptions(options);
      return { ...resolved, worker: { ...resolved.worker, mode: 'manual' } };
    },
    inject: [{ token: JOBS_MODULE_OPTIONS, optional: true }],
  });
  return builder;
}
