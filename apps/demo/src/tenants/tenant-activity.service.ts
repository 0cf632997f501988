import { Injectable } from '@nestjs/common';

/** One job a tenant's handler ran: which, from which queue, when. */
export interface TenantActivity {
  readonly kind: 'webhook' | 'export';
  readonly queue: string;
  readonly jobId: string;
  readonly at: string;
}

/**
 * What the tenants' jobs did, in memory, per tenant (a real application would call the
 * tenant's webhook or write the export to storage).
 */
@Injectable()
export class TenantActivityLog {
  private readonly byTenant = new Map<string, TenantActivity[]>();

  record(tenant: string, activity: Omit<TenantActivity, 'at'>): void {
    const list = this.byTenant.get(tenant) ?? [];
    list.push({ ...activity, at: new Date().toISOString() });
    this.byTenant.set(tenant, list);
  }

  of(tenant: string): readonly TenantActivity[] {
    return this.byTenant.get(tenant) ?? [];
  }
}
