import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { EnqueueFailedError } from '../errors/enqueue-failed.error.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import type { EnqueuedJobInfo } from '../events/jobs-events.interface.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobsMiddlewareRegistry } from '../events/jobs-middleware.registry.js';
import { JOBS_DATA_SOURCE } from '../jobs.constants.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import type { PreparedJob } from './prepare-job.js';
import { PooledInsertQueue } from './pooled-insert-queue.js';

/**
 * Writes prepared jobs: through the caller's transaction (`manager`) or the pool (coalesced
 * while the pool is busy), around the enqueue middleware, then wakes the workers and emits
 * `job.enqueued`. Every check happened before: a failure here is the database's, and comes
 * back as `EnqueueFailedError`.
 */
@Injectable()
export class JobWriter {
  /** Pooled inserts; concurrent ones are coalesced while the pool is busy. */
  private readonly pooledInserts: PooledInsertQueue;

  constructor(
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly repository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
    private readonly middleware: JobsMiddlewareRegistry,
    private readonly events: JobsEvents,
  ) {
    this.pooledInserts = new PooledInsertQueue(
      (rows) => repository.insert(rows),
      () => repository.poolSize(),
    );
  }

  /** Writes the jobs and returns their ids, in order. */
  async write(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    if (prepared.length === 0) return [];
    if (manager !== undefined) this.checkManager(manager);
    const transactional = manager !== undefined;
    const chain = this.middleware.enqueue;
    const infos =
      chain || this.events.has('job.enqueued')
        ? prepared.map(toEnqueuedInfo)
        : null;
    if (chain) {
      await chain(infos!, { transactional }, () =>
        this.insert(prepared, manager),
      );
    } else {
      await this.insert(prepared, manager);
    }
    if (infos) this.events.emit('job.enqueued', { jobs: infos, transactional });
    return prepared.map((job) => job.row.id);
  }

  private async insert(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<void> {
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
    if (manager) return;
    // Once per queue, not per job: a bulk enqueue would otherwise wake the local worker
    // (and queue a notification) a thousand times for one batch.
    const dueJobs = new Map<string, number>();
    for (const job of prepared) {
      if (job.dueNow)
        dueJobs.set(job.row.queue, (dueJobs.get(job.row.queue) ?? 0) + 1);
    }
    for (const [queue, count] of dueJobs) this.notifier.notify(queue, count);
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
}

function toEnqueuedInfo({ row, payload }: PreparedJob): EnqueuedJobInfo {
  return Object.freeze({
    id: row.id,
    name: row.jobType,
    queue: row.queue,
    payload,
    maxRetries: row.maxRetries,
    runAt: row.runAt,
    delayMs: row.delayMs,
    traceId: row.traceId,
  });
}
