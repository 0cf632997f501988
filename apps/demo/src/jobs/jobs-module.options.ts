import type { JobsModuleOptions } from 'nest-jobs';
import type { DemoConfig } from '../config/demo-config.js';
import { LEDGER_QUEUE } from '../ledger/ledger.job.js';
import {
  TENANT_QUEUES_PATTERN,
  WEBHOOKS_QUEUE,
} from '../tenants/tenant.jobs.js';

/**
 * The queues the demo's worker works: those of its handlers, named, and the group of the
 * tenants' export queues by pattern (`worker.queues` replaces the default, every handler's
 * queue, so the named ones are listed too).
 */
export const DEMO_WORKER_QUEUES = [
  'default',
  'emails',
  'reports',
  'transfers',
  'imports',
  LEDGER_QUEUE,
  'maintenance',
  WEBHOOKS_QUEUE,
  TENANT_QUEUES_PATTERN,
];

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
      queues: DEMO_WORKER_QUEUES,
      // Emails go out at most two at a time, whatever else is running.
      queueConcurrency: { emails: Math.min(2, config.concurrency) },
      pollIntervalMs: config.pollIntervalMs,
      ...(config.claimAhead === null ? {} : { claimAhead: config.claimAhead }),
    },
    queuePolicies: {
      // Ledger entries post one at a time per account, in request order (orderingKey).
      [LEDGER_QUEUE]: { ordered: true },
      // Reports are heavy: at most two build at once over every replica of the demo.
      reports: { concurrency: 2 },
      // The mail provider accepts ten emails a second from all replicas together.
      emails: { rateLimit: { limit: 10, periodMs: 1_000 } },
      // A tenant's webhooks start at most two a second (concurrencyKey: the tenant), and a
      // tenant that floods the queue does not hold back the others.
      [WEBHOOKS_QUEUE]: { keyRateLimit: { limit: 2, periodMs: 1_000 } },
    },
  };
}
