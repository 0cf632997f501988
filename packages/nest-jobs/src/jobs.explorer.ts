import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { getJobsMiddlewareMetadata } from './events/jobs-middleware.js';
import type { JobsMiddleware } from './events/jobs-middleware.js';
import { JobsMiddlewareRegistry } from './events/jobs-middleware.registry.js';
import { chainWork } from './events/middleware-chain.js';
import { describeValue } from './errors/invalid-options.error.js';
import { JobDefinitionError } from './errors/job-definition.error.js';
import { JobsMiddlewareError } from './errors/jobs-middleware.error.js';
import type { JobContext } from './handlers/job-context.interface.js';
import { getJobMetadata } from './handlers/job.decorator.js';
import { defineJob } from './handlers/job-definition.js';
import { JobHandlerRegistry } from './handlers/job-handler.registry.js';
import { DeclaredSchedules } from './cron/declared-schedules.js';
import { getRecurringMetadata } from './cron/recurring.decorator.js';
import { InvalidScheduleError } from './errors/invalid-schedule.error.js';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Walks the providers once at module init and hands each kind of metadata to its
 * collector: `@JobsMiddleware()` classes first (handlers are wrapped in them), then
 * `@Job()` methods and their `@Recurring()` schedules.
 */
@Injectable()
export class JobsExplorer implements OnModuleInit {
  private readonly logger = new Logger(JobsExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: JobHandlerRegistry,
    private readonly middleware: JobsMiddlewareRegistry,
    private readonly schedules: DeclaredSchedules,
  ) {}

  onModuleInit(): void {
    const providers = this.discovery.getProviders();
    for (const wrapper of providers) this.collectMiddleware(wrapper);
    for (const wrapper of providers) this.collectHandlers(wrapper);
  }

  private collectMiddleware(wrapper: InstanceWrapper): void {
    const options = getJobsMiddlewareMetadata(wrapper.metatype);
    if (!options) return;
    const name = wrapper.metatype?.name ?? String(wrapper.name);
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      throw new JobsMiddlewareError(
        name,
        'must be a singleton (default-scoped) provider: it wraps every job of the process, ' +
          'not one request; resolve request-scoped dependencies with ModuleRef inside it',
      );
    }
    const order = options.order ?? 0;
    if (typeof order !== 'number' || !Number.isFinite(order)) {
      throw new JobsMiddlewareError(
        name,
        `has an invalid order: expected a finite number, got ${describeValue(order)}`,
      );
    }
    const instance = wrapper.instance as JobsMiddleware | undefined;
    if (!instance) return;
    this.middleware.register({ name, instance, order });
    this.logger.log(`Registered jobs middleware ${name}`);
  }

  private collectHandlers(wrapper: InstanceWrapper): void {
    const prototype =
      wrapper.metatype?.prototype ??
      (wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : null);
    if (!prototype || typeof prototype !== 'object') return;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const metadata = getJobMetadata(prototype[methodName]);
      const recurring = getRecurringMetadata(prototype[methodName]);
      if (!metadata) {
        if (recurring.length > 0)
          throw new InvalidScheduleError(
            String(recurring[0]!.options?.name ?? methodName),
            'handler',
            'is not a job: add @Job() to the method that @Recurring() decorates',
            recurring[0]!.handlerName,
          );
        continue;
      }
      if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        throw new JobDefinitionError(
          metadata.handlerName,
          'job handlers must live in singleton (default-scoped) providers; this provider is request-scoped, ' +
            'transient, or depends on one. Move the handler to a singleton and resolve request-scoped ' +
            'dependencies with ModuleRef inside it',
        );
      }
      const instance = wrapper.instance as Record<
        string,
        (payload: unknown, ctx: JobContext) => unknown
      >;
      const definition = defineJob(metadata);
      this.registry.register({
        definition,
        invoke: chainWork(this.middleware.all, (payload, ctx) =>
          instance[methodName]!(payload, ctx),
        ),
      });
      this.logger.log(
        `Registered job "${definition.name}" (queue "${definition.queue}") -> ${definition.handlerName}`,
      );
      this.schedules.collect(definition, recurring);
    }
  }
}
