import { Inject, Injectable } from '@nestjs/common';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { checkInteger } from '../utils/option-checks.js';
import type { BlockedKey } from './blocked-key.js';
import type { JobStatus } from '../enums/job-status.enum.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { JobReadRepository } from '../sql/job-read.repository.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import { ScheduleRepository } from '../sql/schedule.repository.js';
import { toScheduleView, type ScheduleView } from '../cron/schedule-view.js';
import {
  checkJobId,
  checkJobListFilter,
  encodeCursor,
} from './job-list-filter.js';
import type {
  JobCounts,
  JobListFilter,
  JobPage,
  JobView,
  QueueStats,
} from './job-view.js';

/**
 * Tables up to this many pages (10 MB of 8 kB pages, some 40,000 rows) are counted exactly;
 * larger ones are sampled, so counts stay fast however large the table grows.
 */
export const EXACT_COUNT_MAX_PAGES = 1_280;
/**
 * Pages a sampled count reads (some 12,000 rows): a few per cent of error on the larger
 * states, in a few milliseconds at any table size.
 */
export const SAMPLED_PAGES = 250;

/**
 * Reads jobs for operators (dashboard, CLI, health, metrics): one job, pages of jobs,
 * counts per queue and state, and per queue the oldest due job's age, the number running
 * and whether it is paused. Read-only; every argument is checked before SQL.
 */
@Injectable()
export class JobsReader {
  private readonly reads: JobReadRepository;
  private readonly scheduleReads: ScheduleRepository;

  /** The ordered queues whose keys a failed job blocks. */
  private readonly blockingQueues: string[];

  constructor(
    repository: JobsRepository,
    @Inject(JOBS_RESOLVED_OPTIONS) options: ResolvedJobsOptions,
  ) {
    this.blockingQueues = [...options.queuePolicies.ordered]
      .filter(([, delivery]) => delivery.blockOnFailure)
      .map(([queue]) => queue);
    this.reads = new JobReadRepository(repository);
    this.scheduleReads = new ScheduleRepository(repository);
  }

  /**
   * Every recurring schedule, by name, with its next and last run and its last job's
   * outcome (what JobsSchedules#list returns).
   */
  async schedules(): Promise<ScheduleView[]> {
    return (await this.scheduleReads.list(null)).map(toScheduleView);
  }

  /**
   * The job `id`.
   * @throws JobNotFoundError when no job has it; InvalidJobsOptionError when it is not a uuid.
   */
  async get(id: string): Promise<JobView> {
    const checked = checkJobId('id', id);
    const row = await this.reads.job(checked);
    if (!row) throw new JobNotFoundError(checked);
    return row as unknown as JobView;
  }

  /**
   * A page of jobs matching `filter`, newest id first (ids nest-jobs generates are
   * time-ordered UUIDv7, so: newest first). Pages are keyset-paginated: following
   * `nextCursor` never repeats or skips a job, even while jobs are inserted.
   * @throws InvalidJobsOptionError naming the field of a bad filter.
   */
  async list(filter?: JobListFilter): Promise<JobPage> {
    const checked = checkJobListFilter(filter);
    const rows = await this.reads.list({
      ...checked,
      limit: checked.limit + 1,
    });
    const more = rows.length > checked.limit;
    const jobs = (more
      ? rows.slice(0, checked.limit)
      : rows) as unknown as JobView[];
    return {
      jobs,
      nextCursor: more ? encodeCursor(jobs[jobs.length - 1]!.id) : null,
    };
  }

  /**
   * Rows per queue and state: exact for a table of at most EXACT_COUNT_MAX_PAGES pages;
   * beyond, estimated from a block sample of about SAMPLED_PAGES pages (TABLESAMPLE SYSTEM,
   * scaled up and rounded), with running rows still counted exactly. An exact count of a
   * large table would read every row.
   */
  async counts(): Promise<JobCounts> {
    const pages = await this.reads.tablePages();
    const estimated = pages > EXACT_COUNT_MAX_PAGES;
    const rows = estimated
      ? await this.reads.sampledCounts(
          Math.min(100, (100 * SAMPLED_PAGES) / pages),
        )
      : await this.reads.exactCounts();
    return {
      estimated,
      counts: rows
        .map((row) => ({
          queue: row.queue,
          status: row.status as JobStatus,
          count: Math.round(row.count),
        }))
        .sort(
          (a, b) =>
            a.queue.localeCompare(b.queue) || a.status.localeCompare(b.status),
        ),
    };
  }

  /**
   * Per queue with pending or running jobs, or paused: the age of its oldest due job, how
   * many of its jobs run (on every instance), and whether it is paused. Exact, and cheap at
   * any size: it reads the partial indexes of pending and running jobs.
   */
  async queueStats(): Promise<QueueStats[]> {
    return (await this.reads.queueStats()).map((row) => ({
      queue: row.queue,
      oldestDueAgeMs:
        row.oldestDueAgeMs === null ? null : Math.round(row.oldestDueAgeMs),
      running: row.running,
      paused: row.pausedAtMs !== null,
      pausedAt: row.pausedAtMs === null ? null : new Date(row.pausedAtMs),
    }));
  }

  /**
   * The ordering keys of blocking ordered queues (`queuePolicies`, `onFailedJob: 'block'`)
   * held by a job that failed for good while later jobs of the key wait, by queue and key;
   * at most `limit` (default 100, at most 10,000). Reads failed ordered rows only (their
   * own partial index), one per key.
   */
  async blockedKeys(limit = 100): Promise<BlockedKey[]> {
    const checked = checkInteger('limit', limit, 1, 10_000);
    if (this.blockingQueues.length === 0) return [];
    return this.reads.blockedKeys(this.blockingQueues, checked);
  }
}
