import { Injectable } from '@nestjs/common';
import { JobDefinitionError } from '../errors/job-definition.error.js';
import type { JobContext } from './job-context.interface.js';
import type { JobDefinition } from './job-definition.js';

/** A registered handler: its definition and how to call it on its provider instance. */
export interface RegisteredJob {
  readonly definition: JobDefinition;
  readonly invoke: (payload: unknown, ctx: JobContext) => unknown;
}

/**
 * Job name -> handler, for this module instance only (no process-global state, so two
 * apps in one process, e.g. tests, do not see each other's handlers).
 */
@Injectable()
export class JobHandlerRegistry {
  private readonly jobs = new Map<string, RegisteredJob>();

  /** @throws JobDefinitionError when the name is already taken by another handler. */
  register(job: RegisteredJob): void {
    const existing = this.jobs.get(job.definition.name);
    if (existing) {
      throw new JobDefinitionError(
        job.definition.handlerName,
        `duplicate job name "${job.definition.name}", already used by ${existing.definition.handlerName}`,
      );
    }
    this.jobs.set(job.definition.name, job);
  }

  get(name: string): RegisteredJob | undefined {
    return this.jobs.get(name);
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  /** Distinct default queues of the registered handlers, in registration order. */
  queues(): string[] {
    return [
      ...new Set([...this.jobs.values()].map((job) => job.definition.queue)),
    ];
  }
}
