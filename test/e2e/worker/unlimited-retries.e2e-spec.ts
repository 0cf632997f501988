import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  waitForStatus,
} from '../../support/jobs-table.js';

/** What the handler saw of each attempt. */
class Attempts {
  readonly seen: Array<{ attempt: number; maxRetries: number }> = [];
}

@Injectable()
class Flaky {
  constructor(@Inject(Attempts) private readonly attempts: Attempts) {}

  @Job({
    name: 'flaky.forever',
    maxRetries: Infinity,
    retry: { type: 'fixed', baseMs: 10, jitter: 'none' },
  })
  run(payload: { succeedAt: number }, ctx: JobContext) {
    this.attempts.seen.push({
      attempt: ctx.attempt,
      maxRetries: ctx.maxRetries,
    });
    if (ctx.attempt < payload.succeedAt) throw new Error('not yet');
  }
}

describe('maxRetries: Infinity', () => {
  const suite = useJobsSuite('unlimited-retries', { clearJobsAfterEach: true });
  const { db } = suite;

  it('retries past any finite budget; ctx and events say Infinity; the row stores the largest integer', async () => {
    const attempts = new Attempts();
    const app = await suite.app({
      providers: [Flaky, EventLog, { provide: Attempts, useValue: attempts }],
      jobs: { worker: { pollIntervalMs: 20 } },
    });
    const id = await app
      .get(JobsService)
      .enqueue('flaky.forever', { succeedAt: 6 });
    const row = await waitForStatus(db, id, 'completed');
    expect(row.attempts).toBe(6);
    expect(row.max_retries).toBe(2_147_483_647);
    expect(attempts.seen.map((a) => a.maxRetries)).toEqual(
      new Array(6).fill(Infinity),
    );
    const log = app.get(EventLog);
    expect(log.of('job.retried')).toHaveLength(5);
    expect(log.of('job.retried')[0]!.job.maxRetries).toBe(Infinity);
    expect(log.of('job.enqueued')[0]!.jobs[0]!.maxRetries).toBe(Infinity);
    expect(log.of('job.failed')).toEqual([]);
  });

  it('an enqueue may set it for one job, and a finite value still caps another', async () => {
    const app = await suite.app({
      providers: [Flaky, { provide: Attempts, useValue: new Attempts() }],
      jobs: { worker: { enabled: false } },
    });
    const jobs = app.get(JobsService);
    const capped = await jobs.enqueue(
      'flaky.forever',
      { succeedAt: 1 },
      { maxRetries: 2 },
    );
    const unlimited = await jobs.enqueue(
      'flaky.forever',
      { succeedAt: 1 },
      { maxRetries: Infinity },
    );
    expect((await jobRow(db, capped))!.max_retries).toBe(2);
    expect((await jobRow(db, unlimited))!.max_retries).toBe(2_147_483_647);
  });

  it('lease rescue returns an unlimited job to pending whatever its attempt count', async () => {
    const app = await suite.app({
      providers: [Flaky, { provide: Attempts, useValue: new Attempts() }],
      jobs: { worker: { enabled: false } },
    });
    const repository = new JobsRepository(
      app.get(DataSource),
      describeJobsTable('public', 'nest_jobs'),
    );
    const { id } = await insertJobRow(db, {
      job_type: 'flaky.forever',
      status: 'running',
      attempts: 1_000_000,
      max_retries: 2_147_483_647,
      locked_until: dbNow('-1 s'),
    });
    expect(await repository.recoverExpired(10)).toEqual([
      { id, jobType: 'flaky.forever', status: 'pending', attempt: 1_000_000 },
    ]);
  });
});
