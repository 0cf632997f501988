import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidJobOutcomeError,
  Job,
  JobsService,
  JobTimeoutError,
  RescheduleJob,
  RetryJobAfter,
  SnoozeJob,
  type JobContext,
} from 'nest-jobs';
import { JobsTesting } from 'nest-jobs/testing';
import { aborted } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRow, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Attempt numbers each job id ran with. */
class Runs {
  readonly attempts = new Map<string, number[]>();
  record(ctx: JobContext): number {
    const runs = [...(this.attempts.get(ctx.id) ?? []), ctx.attempt];
    this.attempts.set(ctx.id, runs);
    return runs.length;
  }
  of(id: string) {
    return this.attempts.get(id) ?? [];
  }
}

const Q = 'outcomes';

@Injectable()
class OutcomeHandlers {
  constructor(@Inject(Runs) private readonly runs: Runs) {}

  /** Snoozes (thrown) `times` times, then completes; no retries at all. */
  @Job({ name: 'outcome.snoozer', queue: Q, maxRetries: 0 })
  async snoozer(payload: { times: number; delayMs: number }, ctx: JobContext) {
    if (this.runs.record(ctx) <= payload.times)
      throw new SnoozeJob(payload.delayMs);
  }

  /** Returns a reschedule `times` times (as a delay or as a Date), then completes. */
  @Job({ name: 'outcome.recurring', queue: Q, maxRetries: 1 })
  recurring(
    payload: {
      times: number;
      inMs: number;
      asDate: boolean;
      failFirst: boolean;
    },
    ctx: JobContext,
  ) {
    const run = this.runs.record(ctx);
    if (payload.failFirst && run === 1) throw new Error('first run fails');
    if (run <= payload.times + (payload.failFirst ? 1 : 0)) {
      return new RescheduleJob(
        payload.asDate ? new Date(Date.now() + payload.inMs) : payload.inMs,
      );
    }
    return undefined;
  }

  /** Fails with the delay it chose (an HTTP 429's Retry-After). */
  @Job({ name: 'outcome.rateLimited', queue: Q, maxRetries: 1 })
  async rateLimited(payload: { retryAfterMs: number }, ctx: JobContext) {
    this.runs.record(ctx);
    throw new RetryJobAfter(
      payload.retryAfterMs,
      new Error('HTTP 429 Too Many Requests'),
    );
  }

  /** Builds an outcome from a bad argument: its constructor throws. */
  @Job({ name: 'outcome.badArgument', queue: Q, maxRetries: 0 })
  async badArgument(payload: { delayMs: unknown }, ctx: JobContext) {
    this.runs.record(ctx);
    throw new SnoozeJob(payload.delayMs as number);
  }

  /** Changes a valid snooze's delay after it was built, then returns it. */
  @Job({ name: 'outcome.tampered', queue: Q, maxRetries: 0 })
  tampered(payload: { delayMs: unknown }, ctx: JobContext) {
    this.runs.record(ctx);
    const snooze = new SnoozeJob(1);
    Object.defineProperty(snooze, 'delayMs', { value: payload.delayMs });
    return snooze;
  }

  /** Times out, then throws a snooze: the timeout already decided the attempt. */
  @Job({ name: 'outcome.late', queue: Q, maxRetries: 0, timeoutMs: 100 })
  async late(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    await aborted(ctx.signal);
    throw new SnoozeJob(0);
  }
}

describe('worker: snooze, reschedule and retry-after outcomes', () => {
  const suite = useJobsSuite('worker_outcomes', { clearJobsAfterEach: true });
  const { db } = suite;

  const start = (runs: Runs) =>
    suite.app({
      providers: [EventLog, OutcomeHandlers, { provide: Runs, useValue: runs }],
      jobs: {
        retry: { baseMs: 50 },
        worker: { pollIntervalMs: 50, concurrency: 5 },
      },
    });

  it('snooze runs the job again without using up an attempt', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app
      .get(JobsService)
      .enqueue(OutcomeHandlers, 'snoozer', { times: 3, delayMs: 0 });
    const row = await waitForStatus(db, id, 'completed');
    // max_retries 0, yet four runs, all attempt 1.
    expect(runs.of(id)).toEqual([1, 1, 1, 1]);
    expect(row).toMatchObject({ attempts: 1, releases: 3, last_error: null });
    const snoozed = app.get(EventLog).of('job.snoozed');
    expect(snoozed).toHaveLength(3);
    expect(snoozed[0]).toMatchObject({ job: { id, attempt: 1 }, delayMs: 0 });
  });

  /** A manual worker (nest-jobs/testing): jobs run when drained, on the test clock. */
  const manual = async (runs: Runs) => {
    const app = await suite.app({
      providers: [EventLog, OutcomeHandlers, { provide: Runs, useValue: runs }],
      jobs: { retry: { baseMs: 50 }, worker: { mode: 'manual' } },
    });
    const testing = JobsTesting.from(app.module);
    testing.clock.set(new Date('2031-07-01T00:00:00.000Z'));
    return { app, testing };
  };

  it('a snoozed job is pending, unleased, due after the delay on the database clock', async () => {
    const runs = new Runs();
    const { app, testing } = await manual(runs);
    const id = await app
      .get(JobsService)
      .enqueue(OutcomeHandlers, 'snoozer', { times: 1, delayMs: 60_000 });
    expect((await testing.drain()).counts.snoozed).toBe(1);
    const row = (await jobRow(db, id))!;
    expect(row).toMatchObject({
      status: 'pending',
      releases: 1,
      attempts: 0,
      locked_until: null,
    });
    expect(row.run_at.toISOString()).toBe('2031-07-01T00:01:00.000Z');
    // Due at the delay, not a millisecond before.
    testing.clock.advance(59_999);
    expect((await testing.drain()).attempts).toEqual([]);
    testing.clock.advance(1);
    expect((await testing.drain()).counts.completed).toBe(1);
    expect(runs.of(id)).toEqual([1, 1]);
  });

  it('reschedule runs the job again as a fresh job: attempts back to 0, whole retry budget', async () => {
    const runs = new Runs();
    const app = await start(runs);
    // Attempt 1 fails, attempt 2 reschedules twice; max_retries 1 would not allow a third
    // attempt: each rescheduled run is attempt 1 again.
    const id = await app
      .get(JobsService)
      .enqueue(OutcomeHandlers, 'recurring', {
        times: 2,
        inMs: 0,
        asDate: false,
        failFirst: true,
      });
    const row = await waitForStatus(db, id, 'completed');
    expect(runs.of(id)).toEqual([1, 2, 1, 1]);
    expect(row).toMatchObject({ attempts: 1, status: 'completed' });
    const rescheduled = app.get(EventLog).of('job.rescheduled');
    expect(rescheduled).toHaveLength(2);
    expect(rescheduled[0]).toMatchObject({
      job: { id, attempt: 2 },
      runAt: null,
      delayMs: 0,
    });
  });

  it('reschedule at a Date: pending until that time', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const before = Date.now();
    const id = await app
      .get(JobsService)
      .enqueue(OutcomeHandlers, 'recurring', {
        times: 1,
        inMs: 3_600_000,
        asDate: true,
        failFirst: false,
      });
    const row = await waitFor('the reschedule', async () => {
      const current = await jobRow(db, id);
      return current?.status === 'pending' && current.releases === 1
        ? current
        : undefined;
    });
    expect(row).toMatchObject({ attempts: 0, locked_until: null });
    expect(row.run_at.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(row.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(app.get(EventLog).of('job.rescheduled')[0]!.runAt!.getTime()).toBe(
      row.run_at.getTime(),
    );
  });

  it('RetryJobAfter uses an attempt and retries after its own delay, not the backoff', async () => {
    const runs = new Runs();
    const { app, testing } = await manual(runs);
    const id = await app
      .get(JobsService)
      .enqueue(OutcomeHandlers, 'rateLimited', { retryAfterMs: 60_000 });
    expect((await testing.drain()).counts.retried).toBe(1);
    const row = (await jobRow(db, id))!;
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    // The backoff (baseMs 50) would have made it due 50 ms later.
    expect(row.run_at.toISOString()).toBe('2031-07-01T00:01:00.000Z');
    expect(row.last_error).toMatch(
      /^RetryJobAfter: Retry requested in 60000 ms\n/,
    );
    expect(row.last_error).toContain(
      'Caused by: Error: HTTP 429 Too Many Requests',
    );
    expect(app.get(EventLog).of('job.retried')).toContainEqual(
      expect.objectContaining({ retryInMs: 60_000 }),
    );
    testing.clock.advance(59_999);
    expect((await testing.drain()).attempts).toEqual([]);
    testing.clock.advance(1);
    // Its second attempt asks again, but max_retries 1 is spent: failed for good.
    expect((await testing.drain()).counts.failed).toBe(1);
    expect(runs.of(id)).toEqual([1, 2]);
  });

  it('RetryJobAfter with no retry left fails the job for good', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app
      .get(JobsService)
      .enqueue(
        OutcomeHandlers,
        'rateLimited',
        { retryAfterMs: 10 },
        { maxRetries: 0 },
      );
    const row = await waitForStatus(db, id, 'failed');
    expect(row.attempts).toBe(1);
    expect(runs.of(id)).toEqual([1]);
    expect(app.get(EventLog).of('job.failed')).toContainEqual(
      expect.objectContaining({ reason: 'retries-exhausted' }),
    );
  });

  it.each([
    ['a negative delay', -1],
    ['a fractional delay', 1.5],
    ['null', null],
    ['a delay PostgreSQL cannot add', 1e300],
    ['a string', '10'],
  ])(
    'an outcome built with %s fails the attempt with InvalidJobOutcomeError, nothing sent to SQL',
    async (_what, delayMs) => {
      const runs = new Runs();
      const app = await start(runs);
      const service = app.get(JobsService);
      const built = await service.enqueue(OutcomeHandlers, 'badArgument', {
        delayMs,
      });
      const tampered = await service.enqueue(OutcomeHandlers, 'tampered', {
        delayMs,
      });
      for (const id of [built, tampered]) {
        const row = await waitForStatus(db, id, 'failed');
        expect(row.last_error).toMatch(
          /^InvalidJobOutcomeError: Invalid job outcome SnoozeJob\(delayMs\): expected an integer/,
        );
        expect(row.releases).toBe(0);
      }
      const failures = app.get(EventLog).of('job.failed');
      expect(failures).toHaveLength(2);
      for (const failure of failures)
        expect(failure.error).toBeInstanceOf(InvalidJobOutcomeError);
    },
  );

  it('a snooze thrown after the timeout changes nothing: the attempt timed out', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app.get(JobsService).enqueue(OutcomeHandlers, 'late', {});
    const row = await waitForStatus(db, id, 'failed');
    expect(row.last_error).toMatch(/^JobTimeoutError/);
    expect(row.releases).toBe(0);
    await waitFor('the handler to throw its late snooze', async () =>
      runs.of(id).length === 1 ? true : undefined,
    );
    expect(app.get(EventLog).of('job.snoozed')).toEqual([]);
    expect(app.get(EventLog).of('job.failed')[0]!.error).toBeInstanceOf(
      JobTimeoutError,
    );
  });
});
