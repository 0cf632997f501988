import { Inject, Injectable, type Type } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { JOBS_DATA_SOURCE, JOBS_RESOLVED_OPTIONS } from './jobs.constants.js';
import { getJobMetadata } from './handlers/job.decorator.js';
import { EnqueueNotifier } from './notifications/enqueue-notifier.js';
import {
  prepareJob,
  prepareRow,
  prepareTemplate,
  type PreparedJob,
} from './enqueue/prepare-job.js';
import { EnqueueFailedError } from './errors/enqueue-failed.error.js';
import { InvalidJobsOptionError } from './errors/invalid-options.error.js';
import { JobDefinitionError } from './errors/job-definition.error.js';
import { UnknownJobError } from './errors/unknown-job.error.js';
import type {
  EnqueueOptions,
  JobRequest,
} from './enqueue/enqueue-options.interface.js';
import { defineJob, type JobDefinition } from './handlers/job-definition.js';
import { JobHandlerRegistry } from './handlers/job-handler.registry.js';
import type { ResolvedJobsOptions } from './jobs.options.js';
import { PooledInsertQueue } from './enqueue/pooled-insert-queue.js';
import { JobsRepository } from './sql/jobs.repository.js';
import { checkName } from './utils/option-checks.js';

/** Names of the methods of `T` (candidates for `@Job()` handlers). */
export type JobMethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never;
}[keyof T] &
  string;

/** The payload type of handler `T[K]`: its first parameter. */
export type JobPayload<T, K extends keyof T> = T[K] extends (
  payload: infer P,
  ...rest: any[]
) => unknown
  ? P
  : never;

/**
 * Enqueues jobs. Inject it anywhere (it is exported by JobsModule).
 *
 * ```ts
 * await jobs.enqueue(Mailer, 'sendWelcome', { email });              // typed by the handler
 * await jobs.enqueue('Mailer.sendWelcome', { email });               // by name (dynamic)
 * await dataSource.transaction((manager) =>
 *   jobs.enqueue(Mailer, 'sendWelcome', { email }, { manager }));    // inside a transaction
 * ```
 */
@Injectable()
export class JobsService {
  private readonly classDefinitions = new WeakMap<object, JobDefinition>();
  /** Pooled inserts; concurrent ones are coalesced while the pool is busy. */
  private readonly pooledInserts: PooledInsertQueue;

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: JobHandlerRegistry,
    private readonly repository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
  ) {
    this.pooledInserts = new PooledInsertQueue(
      (rows) => repository.insert(rows),
      () => repository.poolSize(),
    );
  }

  /**
   * Enqueues one job and returns its id. The payload type is checked against the handler's
   * first parameter. With `options.manager` the row is written inside that transaction.
   */
  enqueue<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload: JobPayload<T, K>,
    options?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues one job by name (for dynamic cases) and returns its id. */
  enqueue(
    name: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<string>;
  async enqueue(...args: unknown[]): Promise<string> {
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.resolveJob(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payload = byClass ? args[2] : args[1];
    const options = (byClass ? args[3] : args[2]) as EnqueueOptions | undefined;
    const { manager, ...rest } = options ?? {};
    const [id] = await this.insert(
      [prepareJob(name, definition, payload, rest, this.options)],
      manager,
    );
    return id!;
  }

  /** Enqueues one job per payload of the same handler in one round trip; returns the ids in order. */
  enqueueMany<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payloads: readonly JobPayload<T, K>[],
    options?: EnqueueOptions,
  ): Promise<string[]>;
  /** Enqueues one job per payload of the named job in one round trip; returns the ids in order. */
  enqueueMany(
    name: string,
    payloads: readonly unknown[],
    options?: EnqueueOptions,
  ): Promise<string[]>;
  /** Enqueues jobs of any names in one round trip; returns the ids in order. */
  enqueueMany(
    jobs: readonly JobRequest[],
    options?: Pick<EnqueueOptions, 'manager'>,
  ): Promise<string[]>;
  async enqueueMany(...args: unknown[]): Promise<string[]> {
    if (Array.isArray(args[0])) {
      return this.enqueueRequests(
        args[0] as JobRequest[],
        args[1] as Pick<EnqueueOptions, 'manager'> | undefined,
      );
    }
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.resolveJob(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payloads = byClass ? args[2] : args[1];
    if (!Array.isArray(payloads)) {
      throw new InvalidJobsOptionError(
        'payloads',
        payloads,
        'expected an array of payloads',
      );
    }
    const { manager, ...rest } = ((byClass ? args[3] : args[2]) ??
      {}) as EnqueueOptions;
    const template = prepareTemplate(name, definition, rest, this.options);
    const prepared = payloads.map((payload) =>
      prepareRow(template, payload, this.options),
    );
    return this.insert(prepared, manager);
  }

  private enqueueRequests(
    requests: JobRequest[],
    options: Pick<EnqueueOptions, 'manager'> | undefined,
  ): Promise<string[]> {
    const prepared = requests.map((request, index) => {
      if (typeof request !== 'object' || request === null) {
        throw new InvalidJobsOptionError(
          `jobs[${index}]`,
          request,
          'expected { name, payload, ...options }',
        );
      }
      const { name, payload, ...rest } = request;
      const [jobName, definition] = this.resolveJob(
        name,
        undefined,
        `jobs[${index}].name`,
      );
      return prepareJob(
        jobName,
        definition,
        payload,
        rest,
        this.options,
        `jobs[${index}].`,
      );
    });
    return this.insert(prepared, options?.manager);
  }

  private async insert(
    prepared: PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    if (prepared.length === 0) return [];
    if (manager !== undefined) this.checkManager(manager);
    const rows = prepared.map((job) => job.row);
    try {
      await (manager
        ? this.repository.insert(rows, manager)
        : this.pooledInserts.insert(rows));
    } catch (error) {
      throw new EnqueueFailedError(
        rows.map((row) => row.jobType),
        error,
      );
    }
    // In a transaction the insert statement itself notifies, delivered at commit.
    if (!manager) {
      // Once per queue, not per job: a bulk enqueue would otherwise wake the local worker
      // (and queue a notification) a thousand times for one batch.
      const dueJobs = new Map<string, number>();
      for (const job of prepared) {
        if (job.dueNow)
          dueJobs.set(job.row.queue, (dueJobs.get(job.row.queue) ?? 0) + 1);
      }
      for (const [queue, count] of dueJobs) this.notifier.notify(queue, count);
    }
    return rows.map((row) => row.id);
  }

  private checkManager(manager: unknown): void {
    const candidate = manager as Partial<EntityManager> | null;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.query !== 'function'
    ) {
      throw new InvalidJobsOptionError(
        'manager',
        manager,
        'expected a TypeORM EntityManager',
      );
    }
    if (candidate.connection !== this.dataSource) {
      throw new InvalidJobsOptionError(
        'manager',
        manager,
        'expected an EntityManager of the DataSource JobsModule uses (this one belongs to another DataSource)',
      );
    }
  }

  private resolveJob(
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
