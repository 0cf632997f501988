import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
} from '@nestjs/common';
import { JobsService } from 'nest-jobs';
import { optionalInteger } from '../common/input-fields.js';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import {
  TenantActivityLog,
  type TenantActivity,
} from './tenant-activity.service.js';
import { TenantJobs, tenantQueue } from './tenant.jobs.js';

const MAX_JOBS = 100;
/** A tenant names a queue and a key: letters, digits, '-' and '_' only, 1 to 40 of them. */
const TENANT = /^[A-Za-z0-9_-]{1,40}$/;

const parseCount = (input: Record<string, unknown>): number =>
  optionalInteger(input, 'count', { min: 1, max: MAX_JOBS }) ?? 1;

const parseTenant = (tenant: string): string => {
  if (!TENANT.test(tenant))
    throw new BadRequestException(
      'tenant must be 1 to 40 letters, digits, - or _',
    );
  return tenant;
};

/** POST /tenants/:tenant/webhooks, POST /tenants/:tenant/exports, GET /tenants/:tenant. */
@Controller('tenants')
export class TenantsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly log: TenantActivityLog,
  ) {}

  /**
   * Enqueues `count` webhook deliveries for the tenant (`{"count":10}`) in the `webhooks`
   * queue, keyed by tenant: at most two of one tenant start per second, cluster-wide.
   */
  @Post(':tenant/webhooks')
  @HttpCode(202)
  async webhooks(
    @Param('tenant') rawTenant: string,
    @Body(new ParseInputPipe(parseCount)) count: number,
  ): Promise<{ jobIds: string[] }> {
    const tenant = parseTenant(rawTenant);
    return {
      jobIds: await this.jobs.enqueueMany(
        TenantJobs,
        'webhook',
        Array.from({ length: count }, () => ({ tenant })),
        { concurrencyKey: `tenant:${tenant}` },
      ),
    };
  }

  /** Enqueues `count` exports in the tenant's own queue, `tenants.<tenant>`. */
  @Post(':tenant/exports')
  @HttpCode(202)
  async exports(
    @Param('tenant') rawTenant: string,
    @Body(new ParseInputPipe(parseCount)) count: number,
  ): Promise<{ queue: string; jobIds: string[] }> {
    const tenant = parseTenant(rawTenant);
    const queue = tenantQueue(tenant);
    return {
      queue,
      jobIds: await this.jobs.enqueueMany(
        TenantJobs,
        'export',
        Array.from({ length: count }, () => ({ tenant })),
        { queue },
      ),
    };
  }

  /** What the tenant's jobs did, in the order they ran. */
  @Get(':tenant')
  activity(@Param('tenant') tenant: string): {
    activity: readonly TenantActivity[];
  } {
    return { activity: this.log.of(tenant) };
  }
}
