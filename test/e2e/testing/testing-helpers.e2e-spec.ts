import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidCheckpointError,
  InvalidJobTransactionError,
  InvalidJobsOptionError,
  Job,
  JobDefinitionError,
  JobsService,
  JobTimeoutError,
  SnoozeJob,
  type JobContext,
} from 'nest-jobs';
import {
  ClockBackwardsError,
  JobsAssertionError,
  JobsTesting,
  WorkerModeError,
} from 'nest-jobs/testing';
import { DataSource } from 'typeorm';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { insertJobRow, jobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** What the handlers did, in order. */
class Calls {
  readonly seen: string[] = [];
}

interface Invoice {
  customer: { id: number; country: string };
  lines: string[];
}

@Injectable()
class Billing {
  constructor(
    @Inject(Calls) private readonly calls: Calls,
    @Inject(JobsService) private readonly jobs: JobsService,
  ) {}

  @Job({ name: 'billing.invoice', queue: 'billing' })
  async invoice(payload: Invoice, ctx: JobContext) {
    this.calls.seen.push(`invoice ${payload.customer.id} #${ctx.attempt}`);
    ctx.progress(50);
    await this.jobs.enqueue(Billing, 'receipt', {
      customer: payload.customer.id,
    });
    ctx.progress(100);
    return `invoiced ${payload.customer.id}`;
  }

  @Job({ name: 'billing.receipt', queue: 'billing' })
  receipt(payload: { customer: number }) {
    this.calls.seen.push(`receipt ${payload.customer}`);
  }

  /** Fails its first two attempts; the backoff is fixed at 30 minutes, without jitter. */
  @Job({
    name: 'billing.flaky',
    queue: 'billing',
    maxRetries: 3,
    retry: { type: 'fixed', baseMs: 30 * 60_000, jitter: 'none' },
  })
  flaky(payload: { id: number }, ctx: JobContext) {
    this.calls.seen.push(`flaky ${payload.id} #${ctx.attempt}`);
    if (ctx.attempt <= 2) throw new Error(`flaky failure ${ctx.attempt}`);
  }

  @Job({ name: 'billing.snooze', queue: 'billing' })
  snooze() {
    return new SnoozeJob(10_000);
  }

  /** Returns a hostile thenable: one that settles twice, one whose `then` throws, one that never settles. */
  @Job({ name: 'billing.hostile', queue: 'billing', timeoutMs: 200 })
  hostile(payload: { kind: 'twice' | 'throws' | 'never' }) {
    if (payload.kind === 'twice')
      return {
        then(ok: (v: unknown) => void, fail: (e: unknown) => void) {
          ok('first');
          ok('second');
          fail(new Error('late'));
        },
      };
    if (payload.kind === 'throws')
      return {
        get then() {
          throw new Error('then getter');
        },
      };
    return { then() {} };
  }

  /** Takes bytes; resumes from the last checkpoint and stores the next one. */
  @Job({ name: 'billing.upload', queue: 'billing' })
  async upload(payload: Buffer, ctx: JobContext) {
    const from = (ctx.lastCheckpoint as { at?: number } | undefined)?.at ?? 0;
    this.calls.seen.push(
      `upload ${payload.subarray(from).toString('hex')} from ${from}`,
    );
    await ctx.checkpoint({ at: payload.length });
  }

  /** Not a job. */
  helper(payload: { id: number }) {
    return payload;
  }
}

const MINUTE = 60_000;

describe('nest-jobs/testing', () => {
  const suite = useJobsSuite('testing_helpers', { clearJobsAfterEach: true });
  const { db } = suite;

  async function manualApp(calls = new Calls()) {
    const app = await suite.app({
      providers: [Billing, { provide: Calls, useValue: calls }],
      jobs: { worker: { mode: 'manual' } },
    });
    return {
      app,
      calls,
      jobs: app.get(JobsService),
      testing: JobsTesting.from(app.module),
    };
  }

  describe('drain with a manual worker', () => {
    it('runs nothing on its own; drain runs every due job here, follows what they enqueue, and says how each ended', async () => {
      const { calls, jobs, testing } = await manualApp();
      const id = await jobs.enqueue(Billing, 'invoice', {
        customer: { id: 7, country: 'FR' },
        lines: ['a'],
      });
      expect((await jobRow(db, id))?.status).toBe('pending');

      const result = await testing.drain();
      expect(calls.seen).toEqual(['invoice 7 #1', 'receipt 7']);
      expect(result.attempts.map((a) => [a.name, a.outcome])).toEqual([
        ['billing.invoice', 'completed'],
        ['billing.receipt', 'completed'],
      ]);
      expect(result.counts.completed).toBe(2);
      expect(result.limitReached).toBe(false);
      expect((await jobRow(db, id))?.status).toBe('completed');
      // Nothing left: a second drain runs nothing.
      expect((await testing.drain()).attempts).toEqual([]);
    });

    it('follow: false runs only the jobs due when it began; limit stops it and leaves the rest pending', async () => {
      const { calls, jobs, testing } = await manualApp();
      await jobs.enqueue(Billing, 'invoice', {
        customer: { id: 1, country: 'FR' },
        lines: [],
      });
      const first = await testing.drain({ follow: false });
      expect(first.attempts.map((a) => a.name)).toEqual(['billing.invoice']);
      await testing.expectEnqueued(Billing, 'receipt', { customer: 1 });

      await jobs.enqueueMany(Billing, 'receipt', [
        { customer: 2 },
        { customer: 3 },
      ]);
      const limited = await testing.drain({ limit: 2 });
      expect(limited.attempts).toHaveLength(2);
      expect(limited.limitReached).toBe(true);
      expect(calls.seen).toEqual(['invoice 1 #1', 'receipt 1', 'receipt 2']);
      // The job claimed past the limit went back to pending, its attempt uncounted.
      const rest = await testing.expectEnqueued(Billing, 'receipt', {
        customer: 3,
      });
      expect(rest.attempts).toBe(0);
    });

    it('leaves scheduled jobs unless withScheduled, and drains only the queues asked for', async () => {
      const { calls, jobs, testing } = await manualApp();
      await jobs.enqueue(
        Billing,
        'receipt',
        { customer: 9 },
        { delay: 60 * MINUTE },
      );
      expect((await testing.drain()).attempts).toEqual([]);
      expect(
        (await testing.drain({ queues: ['other'], withScheduled: true }))
          .attempts,
      ).toEqual([]);
      const result = await testing.drain({ withScheduled: true });
      expect(result.attempts.map((a) => a.outcome)).toEqual(['completed']);
      expect(calls.seen).toEqual(['receipt 9']);
    });

    it('reports retries, failures and snoozes with what the handler threw', async () => {
      const { jobs, testing } = await manualApp();
      await jobs.enqueue(Billing, 'flaky', { id: 1 }, { maxRetries: 0 });
      await jobs.enqueue(Billing, 'snooze', {});
      const result = await testing.drain();
      expect(
        result.attempts.map((a) => [
          a.name,
          a.outcome,
          (a.error as Error)?.message,
        ]),
      ).toEqual([
        ['billing.flaky', 'failed', 'flaky failure 1'],
        ['billing.snooze', 'snoozed', undefined],
      ]);
    });

    it('refuses a drain of a worker that runs on its own, and bad drain options, with typed errors', async () => {
      const app = await suite.app({
        providers: [Billing, { provide: Calls, useValue: new Calls() }],
        jobs: { worker: { pollIntervalMs: 60_000 } },
      });
      const testing = JobsTesting.from(app.module);
      await expect(testing.drain()).rejects.toThrow(WorkerModeError);
      await expect(testing.drain()).rejects.toThrow(
        /this worker is running: it runs jobs on its own/,
      );

      await app.close(); // its worker would take the job below
      const { jobs, testing: manual } = await manualApp();
      // One drain at a time: a second one, or one from inside a drained handler, is refused.
      await jobs.enqueue(Billing, 'receipt', { customer: 1 });
      const first = manual.drain();
      await expect(manual.drain()).rejects.toThrow(
        'drain() while a drain is in progress',
      );
      expect((await first).counts.completed).toBe(1);
      await expect(manual.drain({ limit: 0 })).rejects.toThrow(
        InvalidJobsOptionError,
      );
      await expect(
        manual.drain({ queues: 'billing' } as never),
      ).rejects.toThrow(/drain\.queues/);
      await expect(manual.drain({ everything: true } as never)).rejects.toThrow(
        /drain\.everything/,
      );
    });
  });

  describe('the test clock', () => {
    it('moves the database time: a delayed job is due once the clock passed its delay, and rows carry the clock time', async () => {
      const { jobs, testing } = await manualApp();
      const start = testing.clock.set(new Date('2031-03-01T10:00:00.000Z'));
      const id = await jobs.enqueue(
        Billing,
        'receipt',
        { customer: 1 },
        { delay: 5 * MINUTE },
      );
      expect((await jobRow(db, id))?.run_at.toISOString()).toBe(
        '2031-03-01T10:05:00.000Z',
      );
      expect((await testing.drain()).attempts).toEqual([]);

      testing.clock.advance(5 * MINUTE - 1);
      expect((await testing.drain()).attempts).toEqual([]);
      testing.clock.advance(1);
      expect((await testing.drain()).counts.completed).toBe(1);
      const row = await jobRow(db, id);
      expect(row?.started_at?.toISOString()).toBe('2031-03-01T10:05:00.000Z');
      expect(row?.finished_at?.toISOString()).toBe('2031-03-01T10:05:00.000Z');
      expect(testing.clock.now().getTime() - start.getTime()).toBe(5 * MINUTE);

      // A job due now, enqueued while the clock is pinned, is due at the clock's time.
      const now = await jobs.enqueue(Billing, 'receipt', { customer: 2 });
      expect((await jobRow(db, now))?.run_at.toISOString()).toBe(
        '2031-03-01T10:05:00.000Z',
      );
      testing.clock.reset();
      expect(testing.clock.pinned).toBe(false);
    });

    it('drives a backoff retry: it runs when the clock reaches its run_at, not before, in milliseconds of wall time', async () => {
      const { calls, jobs, testing } = await manualApp();
      testing.clock.set(new Date('2031-01-01T00:00:00.000Z'));
      const id = await jobs.enqueue(Billing, 'flaky', { id: 4 });
      expect((await testing.drain()).counts.retried).toBe(1);
      expect((await jobRow(db, id))?.run_at.toISOString()).toBe(
        '2031-01-01T00:30:00.000Z',
      );

      testing.clock.advance(29 * MINUTE);
      expect((await testing.drain()).attempts).toEqual([]);
      testing.clock.advance(MINUTE);
      expect((await testing.drain()).counts.retried).toBe(1);
      testing.clock.advance(30 * MINUTE);
      expect((await testing.drain()).counts.completed).toBe(1);
      expect(calls.seen).toEqual(['flaky 4 #1', 'flaky 4 #2', 'flaky 4 #3']);
      const row = await jobRow(db, id);
      expect(row?.status).toBe('completed');
      expect(
        row?.attempt_errors?.map((e) => new Date(e.at).toISOString()),
      ).toEqual(['2031-01-01T00:00:00.000Z', '2031-01-01T00:30:00.000Z']);
    });

    it('expires leases: a running job whose lease the clock passed is rescued by the next drain and runs again', async () => {
      const { calls, testing } = await manualApp();
      testing.clock.set(new Date('2032-06-01T12:00:00.000Z'));
      const row = await insertJobRow(db, {
        job_type: 'billing.receipt',
        queue: 'billing',
        payload: { customer: 5 },
        status: 'running',
        attempts: 1,
        started_at: new Date('2032-06-01T11:59:00.000Z'),
        locked_until: new Date('2032-06-01T12:00:30.000Z'),
      });
      expect((await testing.drain()).attempts).toEqual([]);
      expect((await jobRow(db, row.id))?.status).toBe('running');
      testing.clock.advance(31_000);
      const result = await testing.drain();
      expect(result.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [2, 'completed'],
      ]);
      expect(calls.seen).toEqual(['receipt 5']);
    });

    it("times a unique job's period and a runAt's due-ness by the clock too", async () => {
      const { jobs, testing } = await manualApp();
      testing.clock.set(new Date('2031-02-01T10:00:00.000Z'));
      const once = { unique: { periodMs: 60 * MINUTE } };
      const first = await jobs.enqueueWithOutcome(
        Billing,
        'receipt',
        { customer: 1 },
        once,
      );
      const again = await jobs.enqueueWithOutcome(
        Billing,
        'receipt',
        { customer: 2 },
        once,
      );
      expect(again).toEqual({ id: first.id, duplicate: true });
      testing.clock.advance(60 * MINUTE);
      const nextHour = await jobs.enqueueWithOutcome(
        Billing,
        'receipt',
        { customer: 3 },
        once,
      );
      expect(nextHour.duplicate).toBe(false);
      // A runAt the clock has passed is due now, though it is years ahead of the real time.
      await jobs.enqueue(
        Billing,
        'receipt',
        { customer: 4 },
        { runAt: new Date('2031-02-01T10:30:00.000Z') },
      );
      expect((await testing.drain()).counts.completed).toBe(3);
    });

    it('never moves backwards, and checks what it is given', async () => {
      const { testing } = await manualApp();
      const at = testing.clock.set(new Date('2031-01-01T00:00:00.000Z'));
      expect(() => testing.clock.advance(-1)).toThrow(ClockBackwardsError);
      expect(() =>
        testing.clock.set(new Date('2030-12-31T23:59:59.999Z')),
      ).toThrow(
        /cannot move backwards: it is at 2031-01-01T00:00:00.000Z, asked for 2030-12-31T23:59:59.999Z/,
      );
      expect(() => testing.clock.advance(1.5)).toThrow(InvalidJobsOptionError);
      expect(() => testing.clock.advance('1' as never)).toThrow(
        InvalidJobsOptionError,
      );
      testing.clock.reset();
      expect(() => testing.clock.set(new Date(Number.NaN))).toThrow(
        InvalidJobsOptionError,
      );
      expect(() =>
        testing.clock.set(new Date('+010000-01-01T00:00:00Z')),
      ).toThrow(/between 1970 and 9999/);
      expect(at.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    });

    it('wakes a worker that runs on its own: a retry the clock made due runs without waiting for the poll', async () => {
      const calls = new Calls();
      const app = await suite.app({
        providers: [Billing, { provide: Calls, useValue: calls }],
        // No poll within the test's life, and no LISTEN: only the clock's wake-up can claim.
        jobs: {
          worker: { pollIntervalMs: 3_600_000 },
          database: { wakeUps: 'poll' },
        },
      });
      const testing = JobsTesting.from(app.module);
      testing.clock.set(Date.now());
      const id = await app
        .get(JobsService)
        .enqueue(Billing, 'flaky', { id: 8 }, { maxRetries: 1 });
      // The enqueue woke the worker at once (a local enqueue); its first attempt failed, and
      // its retry is due in 30 minutes of the clock's time.
      await waitFor('the first attempt to fail', async () => {
        const row = await jobRow(db, id);
        return row?.status === 'pending' && row.attempts === 1;
      });
      testing.clock.advance(30 * MINUTE);
      const done = await testing.waitForJob(id, { timeoutMs: 20_000 });
      expect(done.status).toBe('failed');
      expect(calls.seen).toEqual(['flaky 8 #1', 'flaky 8 #2']);
    });
  });

  describe('performJob', () => {
    it('runs one handler with a real context, without a queue, and returns what it returned and reported', async () => {
      const { calls, testing } = await manualApp();
      const result = await testing.performJob(
        Billing,
        'invoice',
        { customer: { id: 3, country: 'DE' }, lines: [] },
        { attempt: 2 },
      );
      expect(result).toEqual({
        outcome: 'completed',
        value: 'invoiced 3',
        progress: [50, 100],
      });
      expect(calls.seen).toEqual(['invoice 3 #2']);
      // The handler's own enqueue went to the table; performJob itself wrote nothing.
      await testing.expectEnqueued(Billing, 'receipt', { customer: 3 });
      await testing.expectNotEnqueued(Billing, 'invoice');
    });

    it('survives hostile thenables as the worker does: first settlement wins, a throwing then fails, a silent one times out', async () => {
      const { testing } = await manualApp();
      await expect(
        testing.performJob(Billing, 'hostile', { kind: 'twice' }),
      ).resolves.toMatchObject({ outcome: 'completed', value: 'first' });
      await expect(
        testing.performJob(Billing, 'hostile', { kind: 'throws' }),
      ).rejects.toThrow('then getter');
      await expect(
        testing.performJob(Billing, 'hostile', { kind: 'never' }),
      ).rejects.toThrow(JobTimeoutError);
    });

    it('rejects with what the handler threw, reports requested outcomes, and refuses a method without @Job', async () => {
      const { testing } = await manualApp();
      await expect(
        testing.performJob(Billing, 'flaky', { id: 1 }),
      ).rejects.toThrow('flaky failure 1');
      await expect(
        testing.performJob(Billing, 'flaky', { id: 1 }, { attempt: 3 }),
      ).resolves.toMatchObject({ outcome: 'completed' });
      const snoozed = await testing.performJob(Billing, 'snooze', {} as never);
      expect(snoozed.outcome).toBe('snoozed');
      expect(snoozed.request).toBeInstanceOf(SnoozeJob);
      await expect(
        testing.performJob(Billing, 'helper' as never, { id: 1 } as never),
      ).rejects.toThrow(JobDefinitionError);
      await expect(
        testing.performJob(Billing, 'helper' as never, { id: 1 } as never),
      ).rejects.toThrow('Billing#helper: this method has no @Job() decorator');
      await expect(
        testing.performJob(Billing, 'receipt', { customer: 1n } as never),
      ).rejects.toThrow(/billing\.receipt/);
      await expect(
        testing.performJob(Billing, 'receipt', { customer: 1 }, { attempt: 0 }),
      ).rejects.toThrow(InvalidJobsOptionError);
    });
  });

  it('performJob hands a binary payload over as a Buffer and the checkpoint option as ctx.lastCheckpoint; ctx.checkpoint, which needs a row, refuses', async () => {
    const { calls, testing } = await manualApp();
    const bytes = Uint8Array.from([1, 2, 3, 4]);
    await expect(
      testing.performJob(Billing, 'upload', bytes as Buffer, {
        checkpoint: { at: 2 },
      }),
    ).rejects.toThrow(InvalidJobTransactionError);
    expect(calls.seen).toEqual(['upload 0304 from 2']);
    await expect(
      testing.performJob(Billing, 'upload', Buffer.from([9]), {
        checkpoint: 1n,
      }),
    ).rejects.toThrow(InvalidCheckpointError);
    expect(calls.seen).toHaveLength(1);
  });

  describe('expectEnqueued', () => {
    it('finds a job by handler and a part of its payload, typed, also inside an uncommitted transaction', async () => {
      const { app, jobs, testing } = await manualApp();
      await jobs.enqueue(Billing, 'invoice', {
        customer: { id: 11, country: 'IT' },
        lines: ['x', 'y'],
      });
      const job = await testing.expectEnqueued(Billing, 'invoice', {
        customer: { country: 'IT' },
        lines: ['y'],
      });
      const customer: number = job.payload.customer.id;
      expect(customer).toBe(11);
      expect(job.status).toBe('pending');
      await testing.expectEnqueued('billing.invoice', undefined, {
        count: 1,
        queue: 'billing',
      });
      await testing.expectNotEnqueued(Billing, 'invoice', {
        customer: { id: 12 },
      });

      const dataSource = app.get(DataSource);
      await dataSource
        .transaction(async (manager) => {
          await jobs.enqueue(Billing, 'receipt', { customer: 11 }, { manager });
          await testing.expectEnqueued(
            Billing,
            'receipt',
            { customer: 11 },
            { manager },
          );
          await testing.expectNotEnqueued(Billing, 'receipt', { customer: 11 });
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await testing.expectNotEnqueued(Billing, 'receipt');
    });

    it('fails with a plain typed error listing what was found and how it differs', async () => {
      const { jobs, testing } = await manualApp();
      await jobs.enqueue(Billing, 'invoice', {
        customer: { id: 1, country: 'FR' },
        lines: [],
      });
      const error = await testing
        .expectEnqueued(Billing, 'invoice', { customer: { id: 2 } })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(JobsAssertionError);
      const message = (error as Error).message;
      expect(message).toContain(
        'expected a pending job "billing.invoice" whose payload contains {"customer":{"id":2}}, found 0',
      );
      expect(message).toContain(
        // jsonb's own key order.
        '{"lines": [], "customer": {"id": 1, "country": "FR"}}'.replace(
          / /g,
          '',
        ),
      );
      expect(message).toContain('- payload.customer.id: 2');
      expect(message).toContain('+ payload.customer.id: 1');

      await expect(testing.expectEnqueued(Billing, 'receipt')).rejects.toThrow(
        'No pending job of that name at all.',
      );
      await expect(
        testing.expectEnqueued(Billing, 'invoice', undefined, { count: 2 }),
      ).rejects.toThrow('expected 2 pending jobs');
      await expect(
        testing.expectNotEnqueued(Billing, 'invoice'),
      ).rejects.toThrow(
        /expected no pending job "billing.invoice", found 1:\n {2}[0-9a-f-]{36} \(pending, queue billing/,
      );
      await expect(
        testing.expectEnqueued(Billing, 'invoice', undefined, {
          status: 'done' as never,
        }),
      ).rejects.toThrow(InvalidJobsOptionError);
      await expect(
        testing.expectEnqueued(Billing, 'invoice', { customer: 1n } as never),
      ).rejects.toThrow(/payload/);
    });
  });

  describe('waitForJob', () => {
    it('waits for a job by id or by payload with a deadline, saying where the job is when it passes', async () => {
      const { jobs, testing } = await manualApp();
      const id = await jobs.enqueue(Billing, 'receipt', { customer: 21 });
      const waited = testing.waitForJob(id, { timeoutMs: 20_000 });
      const byPayload = testing.waitForJob(
        Billing,
        'receipt',
        { customer: 21 },
        { status: 'completed', timeoutMs: 20_000 },
      );
      await testing.drain();
      expect((await waited).status).toBe('completed');
      expect((await byPayload).payload.customer).toBe(21);

      const other = await jobs.enqueue(Billing, 'receipt', { customer: 22 });
      await expect(
        testing.waitForJob(other, { timeoutMs: 50 }),
      ).rejects.toThrow(
        new RegExp(
          `job ${other} did not become completed or failed or cancelled within 50 ms; it is pending \\(attempts 0`,
        ),
      );
      await expect(
        testing.waitForJob(
          Billing,
          'receipt',
          { customer: 99 },
          { timeoutMs: 50 },
        ),
      ).rejects.toThrow(JobsAssertionError);
      await expect(testing.waitForJob('not-a-uuid')).rejects.toThrow(
        /not-a-uuid/,
      );
    });
  });
});
