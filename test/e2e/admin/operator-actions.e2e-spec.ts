import { describe, expect, it } from '@jest/globals';
import {
  BulkLimitError,
  InvalidJobFilterError,
  InvalidJobIdError,
  JobControl,
  JobNotFoundError,
  JobsService,
  JobStateError,
  UniqueKeyHeldError,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  type JobRowValues,
} from '../../support/jobs-table.js';

const UNKNOWN = '0190a0b0-0000-7000-8000-000000000000';

describe('operator actions: retry, redrive, delete, run now', () => {
  const suite = useJobsSuite('admin-actions', { clearJobsAfterEach: true });
  const { db } = suite;
  const operator = () =>
    suite.app({
      jobs: { worker: { enabled: false }, validateJobNames: false },
      providers: [EventLog],
    });
  const row = (values: JobRowValues = {}) =>
    insertJobRow(db, { job_type: 'x', ...values });
  const statusOf = async (id: string) => (await jobRow(db, id))?.status;

  it('retries a failed job with spent retries: pending now, one more attempt, attempts kept', async () => {
    const app = await operator();
    const { id } = await row({
      status: 'failed',
      attempts: 4,
      max_retries: 3,
      finished_at: dbNow(),
      run_at: dbNow('-1 day'),
      last_error: 'boom',
    });
    await app.get(JobsService).retry(id);
    const after = (await jobRow(db, id))!;
    expect(after).toMatchObject({
      status: 'pending',
      attempts: 4,
      max_retries: 4,
      finished_at: null,
      last_error: 'boom',
    });
    expect(app.get(EventLog).of('job.redriven')).toEqual([
      { ids: [id], transactional: false },
    ]);
  });

  it('retries a cancelled job keeping the retries it had left', async () => {
    const app = await operator();
    const { id } = await row({
      status: 'cancelled',
      attempts: 1,
      max_retries: 3,
      finished_at: dbNow(),
    });
    await app.get(JobControl).retry(id);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      max_retries: 3,
    });
  });

  it('refuses to retry a pending, running or completed job, naming its state', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    for (const status of ['pending', 'running', 'completed'] as const) {
      const { id } = await row({ status });
      await expect(control.retry(id)).rejects.toThrow(JobStateError);
      await expect(control.retry(id)).rejects.toThrow(`it is ${status}`);
      expect(await statusOf(id)).toBe(status);
    }
    await expect(control.retry(UNKNOWN)).rejects.toThrow(JobNotFoundError);
    await expect(control.retry('1')).rejects.toThrow(InvalidJobIdError);
  });

  it('deletes a job in any state but running; a running one is refused naming its state', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    for (const status of [
      'pending',
      'completed',
      'failed',
      'cancelled',
    ] as const) {
      const { id } = await row({ status });
      await control.delete(id);
      expect(await jobRow(db, id)).toBeUndefined();
    }
    const running = await row({ status: 'running' });
    await expect(control.delete(running.id)).rejects.toThrow(
      /Cannot delete job .*: it is running/,
    );
    expect(await statusOf(running.id)).toBe('running');
    await expect(control.delete(UNKNOWN)).rejects.toThrow(JobNotFoundError);
    expect(app.get(EventLog).of('job.deleted')).toHaveLength(4);
  });

  it('runs a scheduled job now; refuses a finished one; rolls back with the transaction', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    const { id } = await row({ run_at: dbNow('1 day') });
    await expect(
      app.get(DataSource).transaction(async (manager) => {
        await control.runNow(id, { manager });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const [{ future }] = await db.query<{ future: boolean }>(
      'SELECT run_at > now() AS future FROM nest_jobs WHERE id = $1',
      [id],
    );
    expect(future).toBe(true);
    await control.runNow(id);
    const [{ due }] = await db.query<{ due: boolean }>(
      'SELECT run_at <= now() AS due FROM nest_jobs WHERE id = $1',
      [id],
    );
    expect(due).toBe(true);
    const done = await row({ status: 'completed' });
    await expect(control.runNow(done.id)).rejects.toThrow(/it is completed/);
  });

  it('leaves a job whose unique key another job holds: retry is a UniqueKeyHeldError, redrive skips it and moves one job per key', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    // Unique while pending or running (bits 1 | 2): a failed job is out of the index.
    const keyed = (key: string, values: JobRowValues = {}) =>
      row({
        job_type: 'report.build',
        unique_key: key,
        unique_states: 3,
        status: 'failed',
        finished_at: dbNow('-1 hour'),
        ...values,
      });
    const old = await keyed('report.build:42');
    const newer = await keyed('report.build:42', {
      status: 'pending',
      finished_at: null,
    });
    const error = await control.retry(old.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueKeyHeldError);
    expect((error as UniqueKeyHeldError).heldBy).toBe(newer.id);
    expect(await statusOf(old.id)).toBe('failed');

    // Two failed jobs with a free key: one is moved, the other then sees it holding the key.
    const [first, second] = [
      await keyed('report.build:7'),
      await keyed('report.build:7'),
    ];
    const plain = await row({ status: 'failed', finished_at: dbNow() });
    expect(
      await control.redrive({ statuses: ['failed'] }, { limit: 100 }),
    ).toBe(2);
    // One of the two (the smaller id: the older, for the library's time-ordered ids).
    expect(
      [await statusOf(first!.id), await statusOf(second!.id)].sort(),
    ).toEqual(['failed', 'pending']);
    expect(await statusOf(plain.id)).toBe('pending');
    expect(await statusOf(old.id)).toBe('failed');
    expect(
      await control.redrive({ statuses: ['failed'] }, { limit: 100 }),
    ).toBe(0);
  });

  it('redrives by filter (queue, name, error text, finished range), in batches, up to the limit', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    await db.query(
      `INSERT INTO nest_jobs (job_type, queue, status, attempts, max_retries, finished_at, last_error)
       SELECT 'mail.send', 'mail', 'failed', 4, 3, now() - interval '1 hour', 'SMTP 451 try later'
       FROM generate_series(1, 2500)`,
    );
    const other = [
      await row({
        job_type: 'mail.send',
        queue: 'mail',
        status: 'failed',
        finished_at: dbNow('-1 hour'),
        last_error: 'invalid address',
      }),
      await row({
        job_type: 'sms.send',
        queue: 'mail',
        status: 'failed',
        finished_at: dbNow('-1 hour'),
        last_error: 'SMTP 451 try later',
      }),
      await row({
        job_type: 'mail.send',
        queue: 'mail',
        status: 'failed',
        finished_at: dbNow('-3 days'),
        last_error: 'SMTP 451 try later',
      }),
      await row({
        job_type: 'mail.send',
        queue: 'mail',
        status: 'cancelled',
        finished_at: dbNow('-1 hour'),
        last_error: 'SMTP 451 try later',
      }),
    ];
    const filter = {
      queue: 'mail',
      name: 'mail.send',
      errorContains: 'SMTP 451',
      finishedAfter: new Date(Date.now() - 24 * 3600 * 1000),
    };
    expect(await control.redrive(filter, { limit: 2_200 })).toBe(2_200);
    expect(await control.redrive(filter)).toBe(300);
    expect(await control.redrive(filter)).toBe(0);
    const [{ pending }] = await db.query<{ pending: number }>(
      `SELECT count(*)::int AS pending FROM nest_jobs
       WHERE status = 'pending' AND max_retries = 4 AND finished_at IS NULL`,
    );
    expect(pending).toBe(2_500);
    for (const { id, status } of other) expect(await statusOf(id)).toBe(status);
    expect(await control.redrive({ ...filter, statuses: ['cancelled'] })).toBe(
      1,
    );
    const events = app.get(EventLog).of('job.redriven');
    expect(events.map((event) => event.ids.length)).toEqual([2_200, 300, 1]);
  });

  it('deletes by filter, never running jobs; statuses are required', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status, finished_at)
       SELECT 'old', 'completed', now() - interval '2 days' FROM generate_series(1, 1500)`,
    );
    const running = await row({ job_type: 'old', status: 'running' });
    const recent = await row({
      job_type: 'old',
      status: 'completed',
      finished_at: dbNow(),
    });
    await expect(control.deleteMany({ name: 'old' })).rejects.toThrow(
      InvalidJobFilterError,
    );
    await expect(
      control.deleteMany({ statuses: ['running'] as never }),
    ).rejects.toThrow(/filter.statuses.*not allowed/);
    expect(
      await control.deleteMany({
        statuses: ['completed'],
        name: 'old',
        finishedBefore: new Date(Date.now() - 24 * 3600 * 1000),
      }),
    ).toBe(1_500);
    expect(await statusOf(running.id)).toBe('running');
    expect(await statusOf(recent.id)).toBe('completed');
  });

  it('refuses bad bulk input before SQL: over the cap, bad limit, unknown field, bad text, bad date', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    await expect(control.redrive({}, { limit: 100_001 })).rejects.toThrow(
      BulkLimitError,
    );
    for (const limit of [0, -1, 1.5, NaN, '10'])
      await expect(
        control.redrive({}, { limit: limit as number }),
      ).rejects.toThrow(InvalidJobFilterError);
    const bad: unknown[] = [
      { nope: 1 },
      { queue: '' },
      { queue: 'q'.repeat(256) },
      { name: 'a\u0000b' },
      { errorContains: 42 },
      { finishedAfter: new Date(NaN) },
      { finishedBefore: '2020-01-01' },
      { statuses: [] },
      { statuses: ['completed'] },
      { statuses: ['bogus'] },
      null,
      [],
    ];
    for (const filter of bad)
      await expect(control.redrive(filter as never)).rejects.toThrow(
        InvalidJobFilterError,
      );
  });
});
