import { describe, expect, it } from '@jest/globals';
import {
  InvalidJobsOptionError,
  JobNotFoundError,
  JobsQueueControl,
  JobsReader,
  JobsService,
  JobStatus,
  type JobListFilter,
} from 'nest-jobs';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { dbNow, insertJobRow } from '../../support/jobs-table.js';

describe('JobsReader', () => {
  const suite = useJobsSuite('admin_reader', { clearJobsAfterEach: true });
  const { db } = suite;

  /** An app that only enqueues and reads (no worker claims the rows). */
  const api = (): Promise<SuiteApp> =>
    suite.app({
      jobs: { worker: { enabled: false }, validateJobNames: false },
    });

  it('gets one job as a typed row; an unknown id is JobNotFoundError, a malformed one InvalidJobsOptionError', async () => {
    const app = await api();
    const id = await app
      .get(JobsService)
      .enqueue('mail.send', { to: 'a@b.c' }, { queue: 'mail', maxRetries: 2 });
    const job = await app.get(JobsReader).get(id);
    expect(job).toMatchObject({
      id,
      queue: 'mail',
      name: 'mail.send',
      status: JobStatus.Pending,
      payload: { to: 'a@b.c' },
      attempts: 0,
      releases: 0,
      maxRetries: 2,
      startedAt: null,
      finishedAt: null,
      lastError: null,
    });
    expect(job.runAt).toBeInstanceOf(Date);
    expect(job.createdAt).toBeInstanceOf(Date);
    expect(await app.get(JobsReader).get(id.toUpperCase())).toMatchObject({
      id,
    });

    const unknown = '00000000-0000-4000-8000-000000000000';
    await expect(app.get(JobsReader).get(unknown)).rejects.toThrow(
      new JobNotFoundError(unknown),
    );
    for (const bad of ['nope', '', 42, null, `${id}' OR 1=1 --`])
      await expect(app.get(JobsReader).get(bad as string)).rejects.toThrow(
        InvalidJobsOptionError,
      );
  });

  it('lists by state, queue, name and creation time', async () => {
    const app = await api();
    const reader = app.get(JobsReader);
    const rows = [
      await insertJobRow(db, { job_type: 'a', queue: 'q1' }),
      await insertJobRow(db, { job_type: 'a', queue: 'q2', status: 'failed' }),
      await insertJobRow(db, {
        job_type: 'b',
        queue: 'q1',
        status: 'completed',
        created_at: dbNow('-2 hours'),
      }),
      await insertJobRow(db, { job_type: 'b', queue: 'q2', status: 'running' }),
    ];
    const ids = async (filter: JobListFilter) =>
      (await reader.list(filter)).jobs.map((job) => job.id).sort();
    const idsOf = (...indexes: number[]) =>
      indexes.map((i) => rows[i]!.id).sort();

    expect(await ids({})).toEqual(idsOf(0, 1, 2, 3));
    expect(await ids({ status: 'failed' })).toEqual(idsOf(1));
    expect(await ids({ status: JobStatus.Running })).toEqual(idsOf(3));
    expect(await ids({ queue: 'q1' })).toEqual(idsOf(0, 2));
    expect(await ids({ name: 'b' })).toEqual(idsOf(2, 3));
    expect(await ids({ name: 'a', queue: 'q2' })).toEqual(idsOf(1));
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect(await ids({ createdFrom: hourAgo })).toEqual(idsOf(0, 1, 3));
    expect(await ids({ createdBefore: hourAgo })).toEqual(idsOf(2));
    expect(await ids({ queue: 'nowhere' })).toEqual([]);
  });

  it('pages with a cursor: no job repeated or skipped while jobs are inserted between pages', async () => {
    const app = await api();
    const jobs = app.get(JobsService);
    const reader = app.get(JobsReader);
    const before = await jobs.enqueueMany(
      Array.from({ length: 25 }, (_, i) => ({
        name: 'page.job',
        payload: { i },
      })),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.list({ name: 'page.job', limit: 10, cursor });
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
      // Newer jobs arrive while the operator pages: they sort before the cursor.
      await jobs.enqueueMany([
        { name: 'page.job', payload: {} },
        { name: 'page.job', payload: {} },
      ]);
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...before].reverse());
  });

  it('refuses bad filter values with InvalidJobsOptionError naming the field, before any SQL', async () => {
    const reader = (await api()).get(JobsReader);
    const cases: Array<[unknown, string]> = [
      [{ status: 'done' }, 'filter.status'],
      [{ status: 'PENDING' }, 'filter.status'],
      [{ queue: '' }, 'filter.queue'],
      [{ queue: ' q' }, 'filter.queue'],
      [{ name: 'x'.repeat(256) }, 'filter.name'],
      [{ name: 'a\u0000b' }, 'filter.name'],
      [{ limit: 0 }, 'filter.limit'],
      [{ limit: 501 }, 'filter.limit'],
      [{ limit: 1.5 }, 'filter.limit'],
      [{ limit: '10' }, 'filter.limit'],
      [{ createdFrom: 'yesterday' }, 'filter.createdFrom'],
      [{ createdBefore: new Date(NaN) }, 'filter.createdBefore'],
      [{ cursor: 'garbage' }, 'filter.cursor'],
      [
        { cursor: Buffer.from('v1:1 OR 1=1').toString('base64url') },
        'filter.cursor',
      ],
      [{ cursor: 7 }, 'filter.cursor'],
      [{ orderBy: 'id; DROP TABLE nest_jobs' }, 'filter.orderBy'],
      ['status = failed', 'filter'],
    ];
    for (const [filter, option] of cases) {
      const error = await reader.list(filter as JobListFilter).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as InvalidJobsOptionError).option).toBe(option);
    }
  });

  it('counts per queue and state exactly on a small table', async () => {
    const app = await api();
    await insertJobRow(db, { job_type: 'a', queue: 'q1' });
    await insertJobRow(db, { job_type: 'a', queue: 'q1' });
    await insertJobRow(db, { job_type: 'a', queue: 'q2', status: 'failed' });
    expect(await app.get(JobsReader).counts()).toEqual({
      estimated: false,
      counts: [
        { queue: 'q1', status: 'pending', count: 2 },
        { queue: 'q2', status: 'failed', count: 1 },
      ],
    });
  });

  it('estimates the counts of a large table from a sample, running rows still exact', async () => {
    const app = await api();
    await db.query(
      `INSERT INTO nest_jobs (job_type, queue, status, finished_at)
       SELECT 'bulk', 'big', 'completed', now() FROM generate_series(1, 90000)`,
    );
    await db.query(
      `INSERT INTO nest_jobs (job_type, queue, status, started_at, locked_until)
       SELECT 'bulk', 'big', 'running', now(), now() + interval '1 hour' FROM generate_series(1, 3)`,
    );
    const { estimated, counts } = await app.get(JobsReader).counts();
    expect(estimated).toBe(true);
    expect(counts.find((c) => c.status === 'running')).toEqual({
      queue: 'big',
      status: 'running',
      count: 3,
    });
    const completed = counts.find((c) => c.status === 'completed')!.count;
    expect(completed).toBeGreaterThan(90000 * 0.7);
    expect(completed).toBeLessThan(90000 * 1.3);
    await db.query('TRUNCATE nest_jobs');
  });

  it('per queue: the oldest due job age, the number running, and paused state', async () => {
    const app = await api();
    await insertJobRow(db, {
      job_type: 'a',
      queue: 'q1',
      run_at: dbNow('-10 s'),
    });
    await insertJobRow(db, {
      job_type: 'a',
      queue: 'q1',
      run_at: dbNow('-2 s'),
    });
    // Not due yet: no age.
    await insertJobRow(db, {
      job_type: 'a',
      queue: 'q2',
      run_at: dbNow('1 hour'),
    });
    await insertJobRow(db, {
      job_type: 'a',
      queue: 'q2',
      status: 'running',
      started_at: dbNow(),
      locked_until: dbNow('1 hour'),
    });
    await app.get(JobsQueueControl).pause('q3');
    const stats = await app.get(JobsReader).queueStats();
    expect(stats.map((s) => s.queue)).toEqual(['q1', 'q2', 'q3']);
    expect(stats[0]!.oldestDueAgeMs).toBeGreaterThanOrEqual(10_000);
    expect(stats[0]).toMatchObject({
      running: 0,
      paused: false,
      pausedAt: null,
    });
    expect(stats[1]).toMatchObject({
      oldestDueAgeMs: null,
      running: 1,
      paused: false,
    });
    expect(stats[2]).toMatchObject({
      oldestDueAgeMs: null,
      running: 0,
      paused: true,
    });
    expect(stats[2]!.pausedAt).toBeInstanceOf(Date);
    // The oldest due job of a queue whatever its priority: each level of the claim index
    // is looked at, a level whose earliest job is not due yet adds nothing.
    for (const [priority, runAt] of [
      [9, '1 hour'],
      [5, '-1 s'],
      [5, '-20 s'],
      [0, '-40 s'],
      [-3, '-5 s'],
    ] as const)
      await insertJobRow(db, {
        job_type: 'a',
        queue: 'q1',
        priority,
        run_at: dbNow(runAt),
      });
    const [q1] = await app.get(JobsReader).queueStats();
    expect(q1!.oldestDueAgeMs).toBeGreaterThanOrEqual(40_000);
    expect(q1!.oldestDueAgeMs).toBeLessThan(3_600_000);
    await app.get(JobsQueueControl).resume('q3');
    expect((await app.get(JobsReader).queueStats())[2]).toMatchObject({
      queue: 'q3',
      paused: false,
    });
  });
});
