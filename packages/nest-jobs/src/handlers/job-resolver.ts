import { Inject, Injectable, type Type } from '@nestjs/common';
import { JobDefinitionError } from '../errors/job-definition.error.js';
import { UnknownJobError } from '../errors/unknown-job.error.js';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { checkName } from '../utils/option-checks.js';
import { defineJob, type JobDefinition } from './job-definition.js';
import { getJobMetadata } from './job.decorator.js';
import { JobHandlerRegistry } from './job-handler.registry.js';

/**
 * Finds the job an enqueue names: a handler class and method (typed calls), or a job name
 * (dynamic calls, checked against the registered handlers unless `validateJobNames` is off,
 * e.g. in a producer whose jobs another service handles).
 */
@Injectable()
export class JobResolver {
  /** A method's definition, once validated: typed enqueues call this for every job. */
  private readonly classDefinitions = new WeakMap<object, JobDefinition>();

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
    private readonly registry: JobHandlerRegistry,
  ) {}

  /**
   * The job name and its definition (undefined: a name with no handler in this app).
   * `option` names the argument in errors (e.g. `jobs[2].name`).
   */
  resolve(
    target: unknown,
    method: unknown,
    option = 'name',
  ): [string, JobDefinition | undefined] {
    if (typeof target === 'function')
      return this.resolveClassJob(target as Type, method);
    const name = checkName(option, target);
    const registered = this.registry.get(name);
    if (!registered && this.options.validateJobNames) {
      throw new UnknownJobError(name, this.registry.names());
    }
    return [name, registered?.definition];
  }

  private resolveClassJob(
    handler: Type,
    method: unknown,
  ): [string, JobDefinition] {
    const implementation =
      typeof method === 'string'
        ? (handler.prototype as Record<string, unknown>)[method]
        : undefined;
    const cached = implementation
      ? this.classDefinitions.get(implementation)
      : undefined;
    if (cached) return [cached.name, cached];
    const metadata = getJobMetadata(implementation);
    if (!metadata) {
      throw new JobDefinitionError(
        `${handler.name}#${String(method)}`,
        'this method has no @Job() decorator',
      );
    }
    const definition =
      this.registry.get(metadata.options.name ?? metadata.defaultName)
        ?.definition ?? defineJob(metadata);
    this.classDefinitions.set(implementation as object, definition);
    return [definition.name, definition];
  }
}
