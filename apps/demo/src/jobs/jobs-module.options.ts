import type { JobsModuleOptions } from 'nest-jobs';
import type { DemoConfig } from '../config/demo-config.js';

/**
 * Options of JobsModule, built from the demo's config by `JobsModule.forRootAsync`.
 * `runMigrations` stays off: the jobs table is created by the DataSource's migrations,
 * together with the demo's own tables.
 */
export function demoJobsOptions(config: DemoConfig): JobsModuleOptions {
  return {
    retry: { type: 'exponential', baseMs: config.retryBaseMs },
    worker: {
      enabled: config.workerEnabled,
      concurrency: config.concurrency,
      // Emails go out at most two at a time, whatever else is running.
      queueConcurrency: { emails: Math.min(2, config.concurrency) },
      pollIntervalMs: config.pollIntervalMs,
    },
  };
}
