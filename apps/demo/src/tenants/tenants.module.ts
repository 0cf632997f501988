import { Module } from '@nestjs/common';
import { TenantActivityLog } from './tenant-activity.service.js';
import { TenantJobs } from './tenant.jobs.js';
import { TenantsController } from './tenants.controller.js';

/**
 * Flow control per tenant: webhook deliveries rate-limited per tenant (`keyRateLimit`), and
 * exports in one queue per tenant, worked through the pattern `tenants.*`.
 */
@Module({
  controllers: [TenantsController],
  providers: [TenantActivityLog, TenantJobs],
})
export class TenantsModule {}
