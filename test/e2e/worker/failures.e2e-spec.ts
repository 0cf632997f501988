import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  FatalJobError,
  Job,
  JobsService,
  JobTimeoutError,
  type JobContext,
} from 'nest-jobs';
import { JobsTesting } from 'nest-jobs/testing';
import { aborted } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  insertJobRow,
  jobRow,
  waitForStatus,
  type JobRow,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Attempts each job id was run with, and the abort reasons handlers observed. */
class Runs {
  readonly attempts = new Map<string, number[]>();
  readonly abortReasons = new Map<string, unknown>();
  record(ctx: JobContext) {
    this.attempts.set(ctx.id, [
      ...(this.attempts.get(ctx.id) ?? []),
      ctx.attempt,
    ]);
  }
  of(id: string) {
    return this.attempts.get(id) ?? [];
  }
}

const Q = 'failures';

@Injectable()
class FailingHandlers {
  constructor(@Inject(Runs) private readonly runs: Runs) {}

  /** Throws synchronously (the method is not async). */
  @Job({ name: 'fail.throws', queue: Q })
  throws(payload: { message: string }, ctx: JobContext) {
    this.runs.record(ctx);
    throw new Error(payload.message);
  }

  /** Returns a rejected promise. */
  @Job({ name: 'fail.rejects', queue: Q, maxRetries: 1 })
  rejects(payload: { message: string }, ctx: JobContext) {
    this.runs.record(ctx);
    return Promise.reject(new TypeError(payload.message));
  }

  /** Throws whatever value it is told to: a string, an object, null. */
  @Job({ name: 'fail.throwsValue', queue: Q, maxRetries: 0 })
  async throwsValue(payload: { value: unknown }, ctx: JobContext) {
    this.runs.record(ctx);
    throw payload.value;
  }

  /** Waits for its signal, then returns normally: the attempt still counts as timed out. */
  @Job({ name: 'fail.slow', queue: Q, timeoutMs: 200, maxRetries: 1 })
  async slow(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    this.runs.abortReasons.set(
      `${ctx.id}#${ctx.attempt}`,
      await aborted(ctx.signal),
    );
  }

  /** Never settles and ignores its signal. */
  @Job({ name: 'fail.hangs', queue: Q, timeoutMs: 150, maxRetries: 0 })
  hangs(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    return new Promise(() => undefined);
  }

  @Job({ name: 'fail.fatal', queue: Q, maxRetries: 3 })
  async fatal(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    throw new FatalJobError('the record is gone');
  }

  @Job({ name: 'fail.noRetry', queue: Q, retry: { type: 'none' } })
  async noRetry(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    throw new Error('not retried');
  }

  /** Returns a thenable whose `then` throws: the attempt must fail, not the worker. */
  @Job({ name: 'fail.badThenable', queue: Q, maxRetries: 0 })
  badThenable(_payload: object, ctx: JobContext) {
    this.runs.record(ctx);
    return {
      then() {
        throw new RangeError('then() exploded');
      },
    };
  }

  /** Fails its first `failures` attempts, then succeeds. */
  @Job({ name: 'fail.flaky', queue: Q })
  async flaky(payload: { failures: number }, ctx: JobContext) {
    this.runs.record(ctx);
    if (ctx.attempt <= payload.failures)
      throw new Error(`flaky attempt ${ctx.attempt}`);
  }
}

describe('worker: failures and retries', () => {
  const suite = useJobsSuite('worker_failures');
  const { db } = suite;

  const start = (runs: Runs) =>
    suite.app({
      providers: [EventLog, FailingHandlers, { provide: Runs, useValue: runs }],
      jobs: {
        retry: { baseMs: 50 },
        // Retries become due between polls (a retry sends no NOTIFY): poll often.
        worker: { pollIntervalMs: 20, concurrency: 5 },
      },
    });

  const settled = (id: string) =>
    waitForStatus(db, id, ['completed', 'failed']);

  const expectFailedForGood = (row: JobRow, attempts: number) => {
    expect(row).toMatchObject({
      status: 'failed',
      attempts,
      locked_until: null,
    });
    expect(row.finished_at).toBeInstanceOf(Date);
  };

  it('retries a thrown Error up to max_retries, then fails for good keeping message and stack', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app
      .get(JobsService)
      .enqueue(FailingHandlers, 'throws', { message: 'boom' });
    const row = await settled(id);
    // max_retries 3: one attempt and three retries.
    expectFailedForGood(row, 4);
    expect(runs.of(id)).toEqual([1, 2, 3, 4]);
    expect(row.last_error).toMatch(/^Error: boom\n\s+at /);
    expect(row.last_error).toContain('worker/failures.e2e-spec');
    expect(app.get(EventLog).of('job.failed')).toContainEqual(
      expect.objectContaining({
        job: expect.objectContaining({ id, attempt: 4 }),
        reason: 'retries-exhausted',
      }),
    );
    await app.close();
  });

  it('schedules a retry: back to pending, lease cleared, run_at pushed into the future', async () => {
    const runs = new Runs();
    const app = await start(runs);
    // A long base delay for this job only (enqueue override), so the retry stays pending.
    const id = await app
      .get(JobsService)
      .enqueue(
        FailingHandlers,
        'throws',
        { message: 'later' },
        { retry: { baseMs: 60_000 } },
      );
    const row = await waitFor('the first failure', async () => {
      const current = await jobRow(db, id);
      return current?.status === 'pending' && current.attempts === 1
        ? current
        : undefined;
    });
    const [{ now }] = await db.query<{ now: Date }>('SELECT now() AS now');
    expect(row.locked_until).toBeNull();
    expect(row.finished_at).toBeNull();
    expect(row.last_error).toMatch(/^Error: later\n\s+at /);
    // Jitter keeps the first delay in [50%, 100%] of 60 s, counted from the failure.
    expect(row.run_at.getTime()).toBeGreaterThanOrEqual(
      row.started_at!.getTime() + 30_000,
    );
    expect(row.run_at.getTime()).toBeLessThanOrEqual(now.getTime() + 60_000);
    expect(runs.of(id)).toEqual([1]);
    await app.close();
    expect((await jobRow(db, id))!.status).toBe('pending');
  });

  it('retries a rejected promise and records its name, message and stack', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app
      .get(JobsService)
      .enqueue(FailingHandlers, 'rejects', { message: 'rejected!' });
    const row = await settled(id);
    expectFailedForGood(row, 2);
    expect(runs.of(id)).toEqual([1, 2]);
    expect(row.last_error).toMatch(/^TypeError: rejected!\n\s+at /);
    await app.close();
  });

  it('records non-Error thrown values readably', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const jobs = app.get(JobsService);
    const values = ['a plain string', { code: 42, detail: 'object' }, null, 7];
    const ids = await jobs.enqueueMany(
      FailingHandlers,
      'throwsValue',
      values.map((value) => ({ value })),
    );
    const rows = await Promise.all(ids.map(settled));
    for (const row of rows) expectFailedForGood(row, 1);
    expect(rows.map((row) => row.last_error)).toEqual([
      "Non-Error value thrown: 'a plain string'",
      "Non-Error value thrown: { code: 42, detail: 'object' }",
      'Non-Error value thrown: null',
      'Non-Error value thrown: 7',
    ]);
    await app.close();
  });

  it('fails an attempt whose handler returns a thenable that throws, and runs the rest of its claim', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const jobs = app.get(JobsService);
    // One insert, so that one claim (5 slots) returns all four.
    const [bad, ...others] = await jobs.enqueueMany([
      { name: 'fail.badThenable', payload: {} },
      ...[0, 0, 0].map((failures) => ({
        name: 'fail.flaky',
        payload: { failures },
      })),
    ]);
    const row = await settled(bad!);
    expectFailedForGood(row, 1);
    expect(row.last_error).toMatch(/^RangeError: then\(\) exploded/);
    for (const other of await Promise.all(others.map(settled)))
      expect(other).toMatchObject({ status: 'completed', attempts: 1 });
    await app.close();
  });

  it('times out an attempt: the signal is aborted with JobTimeoutError and the attempt fails', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const jobs = app.get(JobsService);
    const slowId = await jobs.enqueue(FailingHandlers, 'slow', {});
    const hangsId = await jobs.enqueue(FailingHandlers, 'hangs', {});

    // Returning normally after the timeout does not turn the attempt into a success.
    const slow = await settled(slowId);
    expectFailedForGood(slow, 2);
    expect(runs.of(slowId)).toEqual([1, 2]);
    for (const attempt of [1, 2]) {
      const reason = runs.abortReasons.get(`${slowId}#${attempt}`);
      expect(reason).toBeInstanceOf(JobTimeoutError);
      expect((reason as JobTimeoutError).timeoutMs).toBe(200);
    }
    expect(slow.last_error).toMatch(
      /^JobTimeoutError: Job timed out after 200 ms/,
    );

    // A handler that never settles and ignores its signal still ends by timeout.
    const hangs = await settled(hangsId);
    expectFailedForGood(hangs, 1);
    expect(hangs.last_error).toMatch(
      /^JobTimeoutError: Job timed out after 150 ms/,
    );
    await app.close();
  });

  it('fails for good after one run: maxRetries 0, FatalJobError, retry type none', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const jobs = app.get(JobsService);
    const zeroId = await jobs.enqueue(
      FailingHandlers,
      'throws',
      { message: 'no retries' },
      { maxRetries: 0 },
    );
    const fatalId = await jobs.enqueue(FailingHandlers, 'fatal', {});
    const noRetryId = await jobs.enqueue(FailingHandlers, 'noRetry', {});
    // The worker honours the policy even for a row that allows retries (written by hand).
    const { id: handNoRetryId } = await insertJobRow(db, {
      queue: Q,
      job_type: 'fail.noRetry',
      max_retries: 3,
    });

    const [zero, fatal, noRetry, handNoRetry] = await Promise.all(
      [zeroId, fatalId, noRetryId, handNoRetryId].map(settled),
    );
    expectFailedForGood(zero!, 1);
    expect(zero!.last_error).toMatch(/^Error: no retries/);
    expectFailedForGood(fatal!, 1);
    expect(fatal!.max_retries).toBe(3);
    expect(fatal!.last_error).toMatch(/^FatalJobError: the record is gone/);
    expectFailedForGood(noRetry!, 1);
    expectFailedForGood(handNoRetry!, 1);
    expect(handNoRetry!.last_error).toMatch(/^Error: not retried/);
    for (const id of [zeroId, fatalId, noRetryId, handNoRetryId])
      expect(runs.of(id)).toEqual([1]);
    await app.close();
  });

  it('completes a job that succeeds on a retry', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const id = await app
      .get(JobsService)
      .enqueue(FailingHandlers, 'flaky', { failures: 2 });
    const row = await settled(id);
    expect(row).toMatchObject({ status: 'completed', attempts: 3 });
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(runs.of(id)).toEqual([1, 2, 3]);
    await app.close();
  });

  describe('backoff timing', () => {
    /**
     * A manual worker and the test clock (nest-jobs/testing): each retry's run_at is read
     * against the pinned time, so the delays are exact, and a retry is shown to be due at
     * its run_at and not a millisecond before, without waiting for any of it.
     */
    it('waits base * 2^(n-1) (capped; with jitter within [50%, 100%]) between attempts, on the clock', async () => {
      const runs = new Runs();
      const app = await suite.app({
        providers: [FailingHandlers, { provide: Runs, useValue: runs }],
        jobs: { worker: { mode: 'manual' } },
      });
      const testing = JobsTesting.from(app.module);
      testing.clock.set(new Date('2031-05-01T08:00:00.000Z'));
      const jobs = app.get(JobsService);
      const exact = { jitter: 'none' } as const;
      const exponential = await jobs.enqueue(
        FailingHandlers,
        'flaky',
        { failures: 3 },
        {
          queue: 'exponential',
          retry: { baseMs: 200_000, capMs: 10_000_000, ...exact },
        },
      );
      const capped = await jobs.enqueue(
        FailingHandlers,
        'flaky',
        { failures: 3 },
        {
          queue: 'capped',
          retry: { baseMs: 200_000, capMs: 250_000, ...exact },
        },
      );
      const fixed = await jobs.enqueue(
        FailingHandlers,
        'flaky',
        { failures: 3 },
        { queue: 'fixed', retry: { type: 'fixed', baseMs: 150_000, ...exact } },
      );
      const jittered = await jobs.enqueue(
        FailingHandlers,
        'flaky',
        { failures: 3 },
        { queue: 'jittered', retry: { baseMs: 200_000, capMs: 10_000_000 } },
      );
      const nominal: Record<string, number[]> = {
        [exponential]: [200_000, 400_000, 800_000],
        [capped]: [200_000, 250_000, 250_000],
        [fixed]: [150_000, 150_000, 150_000],
        [jittered]: [200_000, 400_000, 800_000],
      };
      // One queue per job, so that a drain runs only the job asked for. Every job runs its
      // first attempt now; then, earliest run_at first, each retry when the clock gets there.
      const queues = ['exponential', 'capped', 'fixed', 'jittered'];
      const queueOf = new Map(
        Object.keys(nominal).map((id, i) => [id, queues[i]!]),
      );
      expect((await testing.drain({ queues })).counts.retried).toBe(4);
      for (;;) {
        const [row] = await db.query<JobRow>(
          `SELECT * FROM nest_jobs WHERE queue = ANY($1) AND status = 'pending' ORDER BY run_at LIMIT 1`,
          [queues],
        );
        if (!row) break;
        const n = row.attempts;
        // The failure is stamped with the clock's time of the drain that ran it.
        const failedAt = new Date(row.attempt_errors!.at(-1)!.at).getTime();
        const delay = row.run_at.getTime() - failedAt;
        const expected = nominal[row.id]![n - 1]!;
        if (row.id === jittered) {
          expect(delay).toBeGreaterThanOrEqual(expected * 0.5);
          expect(delay).toBeLessThanOrEqual(expected);
        } else {
          expect(delay).toBe(expected);
        }
        // Not due a millisecond before its run_at; due at it.
        const only = { queues: [queueOf.get(row.id)!] };
        // (Two jobs may be due at the same instant: the second is already due.)
        if (row.run_at > testing.clock.now()) {
          testing.clock.set(row.run_at.getTime() - 1);
          expect((await testing.drain(only)).attempts).toEqual([]);
          testing.clock.advance(1);
        }
        const ran = (await testing.drain(only)).attempts;
        expect(ran.map((a) => [a.id, a.attempt, a.outcome])).toEqual([
          [row.id, n + 1, n < 3 ? 'retried' : 'completed'],
        ]);
      }
      for (const id of Object.keys(nominal))
        expect(runs.of(id)).toEqual([1, 2, 3, 4]);
      await app.close();
    });
  });
});
