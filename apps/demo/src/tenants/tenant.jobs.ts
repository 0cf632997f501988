import { Injectable } from '@nestjs/common';
import { Job, type JobContext } from 'nest-jobs';
import { TenantActivityLog } from './tenant-activity.service.js';

/**
 * The queue of the tenants' webhook deliveries, limited per tenant (`keyRateLimit` in
 * jobs-module.options.ts): each job carries its tenant as `concurrencyKey`.
 */
export const WEBHOOKS_QUEUE = 'webhooks';

/** The group of per-tenant export queues (`tenants.acme`, ...), worked by pattern. */
export const TENANT_QUEUES_PATTERN = 'tenants.*';

/** The queue of one tenant's exports: made by its name alone, no set-up. */
export const tenantQueue = (tenant: string): string => `tenants.${tenant}`;

/** Payload of both tenant jobs. */
export interface TenantJobPayload {
  tenant: string;
}

/** The tenants' jobs: webhook deliveries (rate-limited per tenant) and exports (a queue each). */
@Injectable()
export class TenantJobs {
  constructor(private readonly log: TenantActivityLog) {}

  /**
   * Delivers one webhook to the tenant. The queue starts at most two deliveries of one
   * tenant a second over every replica: a tenant that floods it waits for its own windows
   * while other tenants' deliveries go through.
   */
  @Job({ name: 'tenants.webhook', queue: WEBHOOKS_QUEUE, maxRetries: 3 })
  async webhook(payload: TenantJobPayload, ctx: JobContext): Promise<void> {
    this.log.record(payload.tenant, {
      kind: 'webhook',
      queue: ctx.queue,
      jobId: ctx.id,
    });
  }

  /**
   * Builds one export in the tenant's own queue (`tenants.<tenant>`), found by the worker's
   * pattern `tenants.*` as soon as its first job is enqueued: pausing one tenant's queue
   * (POST /admin/queues/tenants.acme/pause) holds that tenant only.
   */
  @Job({ name: 'tenants.export', queue: 'tenants.default', maxRetries: 3 })
  async export(payload: TenantJobPayload, ctx: JobContext): Promise<void> {
    this.log.record(payload.tenant, {
      kind: 'export',
      queue: ctx.queue,
      jobId: ctx.id,
    });
  }
}
