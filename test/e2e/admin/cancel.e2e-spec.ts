import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidJobIdError,
  Job,
  JobCancelledError,
  JobControl,
  JobNotFoundError,
  JobsService,
  JobStateError,
  type JobContext,
  type JobsModuleOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { aborted } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  waitForStatus,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

const Q = 'cancel';

/** What the running instance's handlers saw. */
class Seen {
  readonly started = new Set<string>();
  readonly reasons = new Map<string, unknown>();
}

@Injectable()
class SlowHandlers {
  constructor(@Inject(Seen) private readonly seen: Seen) {}

  /** Waits for its signal, then completes anyway: the late completion must change nothing. */
  @Job({ name: 'cancel.completesLate', queue: Q })
  async completesLate(_payload: unknown, ctx: JobContext) {
    this.seen.started.add(ctx.id);
    this.seen.reasons.set(ctx.id, await aborted(ctx.signal));
  }

  /** Waits for its signal, then fails: the late failure (with retries left) must change nothing. */
  @Job({ name: 'cancel.failsLate', queue: Q, maxRetries: 5 })
  async failsLate(_payload: unknown, ctx: JobContext) {
    this.seen.started.add(ctx.id);
    this.seen.reasons.set(ctx.id, await aborted(ctx.signal));
    throw new Error('failing after the cancel');
  }

  /** Completes at once. */
  @Job({ name: 'cancel.quick', queue: Q })
  quick(_payload: unknown, ctx: JobContext) {
    this.seen.started.add(ctx.id);
  }

  /** Cancels its own job: it ends cancelled, not failed, and is not retried. */
  @Job({ name: 'cancel.itself', queue: Q, maxRetries: 5 })
  async cancelsItself(_payload: unknown, ctx: JobContext) {
    this.seen.started.add(ctx.id);
    throw new JobCancelledError('no longer needed');
  }
}

describe('cancel', () => {
  const suite = useJobsSuite('admin-cancel', { clearJobsAfterEach: true });
  const { db } = suite;

  /** The operator: an app without a worker. */
  const operator = () =>
    suite.app({
      jobs: { worker: { enabled: false }, validateJobNames: false },
      providers: [EventLog],
    });

  /**
   * Another instance: a second Nest app in this process with its own worker pool, LISTEN
   * connection and heartbeat (it shares nothing with the operator app but the database).
   */
  const runner = (jobs: JobsModuleOptions = {}) =>
    suite.app({
      jobs: { ...jobs, worker: { queues: [Q], ...jobs.worker } },
      providers: [Seen, SlowHandlers, EventLog],
    });

  it('cancels a pending job: it never runs and is finished', async () => {
    const app = await operator();
    const { id } = await insertJobRow(db, { job_type: 'x', queue: Q });
    await app.get(JobControl).cancel(id);
    const row = (await jobRow(db, id))!;
    expect(row.status).toBe('cancelled');
    expect(row.finished_at).not.toBeNull();
    expect(app.get(EventLog).of('job.cancelled')).toEqual([
      { id, previousStatus: 'pending', transactional: false },
    ]);
  });

  it('cancels a scheduled job through JobsService, and in a transaction only once it commits', async () => {
    const app = await operator();
    const { id } = await insertJobRow(db, {
      job_type: 'x',
      queue: Q,
      run_at: dbNow('1 hour'),
    });
    const dataSource = app.get(DataSource);
    await expect(
      dataSource.transaction(async (manager) => {
        await app.get(JobsService).cancel(id, { manager });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await jobRow(db, id))?.status).toBe('pending');
    await dataSource.transaction((manager) =>
      app.get(JobsService).cancel(id, { manager }),
    );
    expect((await jobRow(db, id))?.status).toBe('cancelled');
  });

  it('refuses a finished job naming its state, an unknown id, and a bad id before SQL', async () => {
    const app = await operator();
    const control = app.get(JobControl);
    const { id } = await insertJobRow(db, {
      job_type: 'x',
      status: 'completed',
      finished_at: dbNow(),
    });
    await expect(control.cancel(id)).rejects.toThrow(JobStateError);
    await expect(control.cancel(id)).rejects.toThrow(/it is completed/);
    const unknown = '0190a0b0-0000-7000-8000-000000000000';
    await expect(control.cancel(unknown)).rejects.toThrow(JobNotFoundError);
    for (const bad of ['nope', '', 42, null, "x'; DROP TABLE nest_jobs; --"])
      await expect(control.cancel(bad as string)).rejects.toThrow(
        InvalidJobIdError,
      );
    expect((await jobRow(db, id))?.status).toBe('completed');
  });

  it('aborts a running job on another instance through NOTIFY; its late completion changes nothing', async () => {
    // The heartbeat is far slower than the wait below: only the NOTIFY can deliver the cancel.
    const running = await runner({ worker: { heartbeatIntervalMs: 30_000 } });
    const app = await operator();
    const id = await app
      .get(JobsService)
      .enqueue('cancel.completesLate', {}, { queue: Q });
    const seen = running.get(Seen);
    await waitFor('the job to start', () => seen.started.has(id));
    await app.get(JobControl).cancel(id);
    await waitFor('the handler to see its signal aborted', () =>
      seen.reasons.has(id),
    );
    expect(seen.reasons.get(id)).toBeInstanceOf(JobCancelledError);
    const events = running.get(EventLog);
    await waitFor(
      'the held attempt to be let go',
      () => events.of('job.attempt-cancelled').length === 1,
    );
    expect(events.of('job.attempt-cancelled')[0]).toMatchObject({
      job: { id },
      by: 'operator',
    });
    expect(events.of('job.lease-lost')).toEqual([]);
    expect(events.of('job.completed')).toEqual([]);
    expect(app.get(EventLog).of('job.cancelled')).toEqual([
      { id, previousStatus: 'running', transactional: false },
    ]);
    expect((await jobRow(db, id))?.status).toBe('cancelled');
    // The handler completed after its signal: give a would-be outcome write time to land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await jobRow(db, id)).toMatchObject({
      status: 'cancelled',
      locked_until: null,
    });
  });

  it('aborts a running job on an instance without LISTEN through its heartbeat; a late failure changes nothing', async () => {
    const running = await runner({
      database: { wakeUps: 'poll' },
      worker: { heartbeatIntervalMs: 200, leaseMs: 2_000, pollIntervalMs: 50 },
    });
    const app = await operator();
    const id = await app
      .get(JobsService)
      .enqueue('cancel.failsLate', {}, { queue: Q });
    const seen = running.get(Seen);
    await waitFor('the job to start', () => seen.started.has(id));
    await app.get(JobControl).cancel(id);
    await waitFor('the handler to see its signal aborted', () =>
      seen.reasons.has(id),
    );
    expect(seen.reasons.get(id)).toBeInstanceOf(JobCancelledError);
    const events = running.get(EventLog);
    await waitFor(
      'job.attempt-cancelled',
      () => events.of('job.attempt-cancelled').length === 1,
    );
    expect(events.of('job.lease-lost')).toEqual([]);
    expect(events.of('job.retried')).toEqual([]);
    // A few more beats: the cancelled attempt is neither renewed nor treated as lost.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await jobRow(db, id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      locked_until: null,
    });
    expect(events.of('job.lease-lost')).toEqual([]);
  });

  it('a handler cancels its own job by throwing JobCancelledError: cancelled, not retried', async () => {
    const running = await runner();
    const id = await running
      .get(JobsService)
      .enqueue('cancel.itself', {}, { queue: Q });
    const row = await waitForStatus(db, id, ['cancelled', 'failed']);
    expect(row).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      last_error: 'no longer needed',
      locked_until: null,
    });
    expect(row.finished_at).not.toBeNull();
    const events = running.get(EventLog);
    expect(events.of('job.attempt-cancelled')).toMatchObject([
      { job: { id }, by: 'handler' },
    ]);
    expect(events.of('job.retried')).toEqual([]);
    expect(events.of('job.failed')).toEqual([]);
  });

  it('a retried or run-now job is taken at once by another instance: the action wakes its queue', async () => {
    // Polling far slower than the waits below: only the wake-up NOTIFY can start the jobs.
    const running = await runner({ worker: { pollIntervalMs: 60_000 } });
    const app = await operator();
    const failed = await insertJobRow(db, {
      job_type: 'cancel.quick',
      queue: Q,
      status: 'failed',
      attempts: 4,
      finished_at: dbNow(),
    });
    const scheduled = await insertJobRow(db, {
      job_type: 'cancel.quick',
      queue: Q,
      run_at: dbNow('1 day'),
    });
    await app.get(JobControl).retry(failed.id);
    await app.get(JobControl).runNow(scheduled.id);
    await waitForStatus(db, failed.id, 'completed');
    await waitForStatus(db, scheduled.id, 'completed');
    expect(running.get(Seen).started).toEqual(
      new Set([failed.id, scheduled.id]),
    );
  });

  it('keeps cancelled jobs for retention.cancelledMs, then deletes them', async () => {
    const old = await insertJobRow(db, {
      job_type: 'x',
      status: 'cancelled',
      finished_at: dbNow('-2 hours'),
    });
    const recent = await insertJobRow(db, {
      job_type: 'x',
      status: 'cancelled',
      finished_at: dbNow('-1 minute'),
    });
    await suite.app({
      jobs: {
        retention: { cancelledMs: 60 * 60 * 1000 },
        worker: { queues: ['none'], cleanupIntervalMs: 50 },
      },
    });
    await waitFor(
      'the old cancelled job to be deleted',
      async () => (await jobRow(db, old.id)) === undefined,
    );
    expect((await jobRow(db, recent.id))?.status).toBe('cancelled');
  });
});
