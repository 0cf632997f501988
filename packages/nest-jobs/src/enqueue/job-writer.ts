import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { EnqueueFailedError } from '../errors/enqueue-failed.error.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobsMiddlewareRegistry } from '../events/jobs-middleware.registry.js';
import { JOBS_DATA_SOURCE } from '../jobs.constants.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import type { ExistingIds } from '../sql/job-rows.js';
import type { EnqueueOutcome } from './enqueue-outcome.interface.js';
import { enqueuedInfo } from './enqueued-info.js';
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

  /** Writes the jobs and returns their ids, in order (a duplicate's: the existing job's). */
  async write(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    const existing = await this.writeRows(prepared, manager);
    return prepared.map((job, i) => existing?.[i] ?? job.row.id);
  }

  /** Writes the jobs and says, for each in order, its id and whether it was a duplicate. */
  async writeWithOutcomes(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<EnqueueOutcome[]> {
    const existing = await this.writeRows(prepared, manager);
    return prepared.map((job, i) => {
      const id = existing?.[i];
      return id === undefined
        ? { id: job.row.id, duplicate: false }
        : { id, duplicate: true };
    });
  }

  private async writeRows(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<ExistingIds> {
    if (prepared.length === 0) return undefined;
    checkNotMixingOrderedAndUnique(prepared);
    if (manager !== undefined) this.checkManager(manager);
    const transactional = manager !== undefined;
    const chain = this.middleware.enqueue;
    const infos =
      chain || this.events.has('job.enqueued')
        ? prepared.map(enqueuedInfo)
        : null;
    let existing: ExistingIds;
    if (chain) {
      await chain(infos!, { transactional }, async () => {
        existing = await this.insert(prepared, manager);
      });
    } else {
      existing = await this.insert(prepared, manager);
    }
    // job.enqueued lists the jobs this call inserted: a duplicate inserted nothing.
    const inserted =
      infos && existing
        ? infos.filter((_, i) => existing![i] === undefined)
        : infos;
    if (inserted && inserted.length > 0)
      this.events.emit('job.enqueued', { jobs: inserted, transactional });
    return existing;
  }

  private async insert(
    prepared: readonly PreparedJob[],
    manager: EntityManager | undefined,
  ): Promise<ExistingIds> {
    const rows = prepared.map((job) => job.row);
    let existing: ExistingIds;
    try {
      existing = await (manager
        ? this.repository.insert(rows, manager)
        : this.pooledInserts.insert(rows));
    } catch (error) {
      throw new EnqueueFailedError(
        rows.map((row) => row.jobType),
        error,
      );
    }
    // In a transaction the insert statement itself notifies, delivered at commit.
    if (manager) return existing;
    // Once per queue, not per job: a bulk enqueue would otherwise wake the local worker
    // (and queue a notification) a thousand times for one batch.
    const dueJobs = new Map<string, number>();
    prepared.forEach((job, i) => {
      if (job.dueNow && existing?.[i] === undefined)
        dueJobs.set(job.row.queue, (dueJobs.get(job.row.queue) ?? 0) + 1);
    });
    for (const [queue, count] of dueJobs) this.notifier.notify(queue, count);
    return existing;
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

/**
 * Ordered jobs go out in their own statement (each takes its place in its key's order
 * there), unique jobs in theirs (ON CONFLICT on their key): one call cannot be both and stay
 * all or none.
 */
function checkNotMixingOrderedAndUnique(prepared: readonly PreparedJob[]) {
  let ordered = false;
  let unique = false;
  for (const { row } of prepared) {
    ordered ||= row.orderingKey !== null;
    unique ||= row.uniqueKey !== null;
  }
  if (ordered && unique)
    throw new InvalidJobsOptionError(
      'jobs',
      prepared.length,
      'expected keyed jobs (orderingKey, concurrencyKey) and unique jobs in separate calls: one statement cannot insert both',
    );
}
