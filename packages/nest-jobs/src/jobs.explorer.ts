import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { getJobMetadata } from './handlers/job.decorator.js';
import { JobDefinitionError } from './errors/job-definition.error.js';
import type { JobContext } from './handlers/job-context.interface.js';
import { defineJob } from './handlers/job-definition.js';
import { JobHandlerRegistry } from './handlers/job-handler.registry.js';

/** Collects `@Job()` methods of every provider at module init and registers them. */
@Injectable()
export class JobsExplorer implements OnModuleInit {
  private readonly logger = new Logger(JobsExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: JobHandlerRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const prototype =
        wrapper.metatype?.prototype ??
        (wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : null);
      if (!prototype || typeof prototype !== 'object') continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const metadata = getJobMetadata(prototype[methodName]);
        if (!metadata) continue;
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
          invoke: (payload, ctx) => instance[methodName]!(payload, ctx),
        });
        this.logger.log(
          `Registered job "${definition.name}" (queue "${definition.queue}") -> ${definition.handlerName}`,
        );
      }
    }
  }
}
