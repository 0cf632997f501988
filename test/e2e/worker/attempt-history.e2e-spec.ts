import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import {
  Job,
  JobsService,
  type JobAttemptError,
  type JobContext,
} from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  waitForStatus,
} from '../../support/jobs-table.js';

const Q = 'history';
const THIS_INSTANCE = `${hostname()}:${process.pid}`;

@Injectable()
class HistoryHandlers {
  /** Fails its first `failures` attempts (with the attempt in the message), then succeeds. */
  @Job({ name: 'history.flaky', queue: Q, maxRetries: 5 })
  async flaky(payload: { failures: number }, ctx: JobContext) {
    if (ctx.attempt <= payload.failures)
      throw new Error(`attempt ${ctx.attempt} failed`);
  }

  /** Always fails, with a message of `length` characters. */
  @Job({ name: 'history.fails', queue: Q, maxRetries: 0 })
  async fails(payload: { length: number }) {
    throw new Error('x'.repeat(payload.length));
  }
}

describe('worker: attempt history', () => {
  const suite = useJobsSuite('worker_attempt_history', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;

  const start = () =>
    suite.app({
      providers: [HistoryHandlers],
      jobs: {
        retry: { baseMs: 10 },
        worker: { pollIntervalMs: 50, recoveryIntervalMs: 100 },
      },
    });

  it('keeps every failed attempt: attempt, time, kind, error as last_error says it, instance', async () => {
    const app = await start();
    const id = await app
      .get(JobsService)
      .enqueue(HistoryHandlers, 'flaky', { failures: 3 });
    const row = await waitForStatus(db, id, 'completed');
    const history = row.attempt_errors!;
    expect(history.map((entry) => entry.attempt)).toEqual([1, 2, 3]);
    for (const [index, entry] of history.entries()) {
      expect(entry).toEqual({
        attempt: index + 1,
        at: expect.any(String),
        kind: 'failed',
        error: expect.stringMatching(
          new RegExp(`^Error: attempt ${index + 1} failed\\n\\s+at `),
        ),
        instance: THIS_INSTANCE,
      });
    }
    const times = history.map((entry) => Date.parse(entry.at));
    expect(times.every((time) => !Number.isNaN(time))).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // last_error is the latest entry's text; the completion kept both.
    expect(row.last_error).toBe(history[2]!.error);
  });

  it('a job that never fails has no history (completions do not write it)', async () => {
    const app = await start();
    const id = await app
      .get(JobsService)
      .enqueue(HistoryHandlers, 'flaky', { failures: 0 });
    const row = await waitForStatus(db, id, 'completed');
    expect(row.attempt_errors).toBeNull();
  });

  it('keeps the latest 20 entries, oldest dropped, each error bounded like last_error', async () => {
    await start();
    const old: JobAttemptError[] = Array.from({ length: 20 }, (_, i) => ({
      attempt: i + 1,
      at: new Date(0).toISOString(),
      kind: 'failed',
      error: `old ${i + 1}`,
      instance: 'elsewhere:1',
    }));
    const { id } = await insertJobRow(db, {
      job_type: 'history.fails',
      queue: Q,
      payload: { length: 100_000 },
      attempts: 20,
      max_retries: 20,
      attempt_errors: old,
    });
    const row = await waitForStatus(db, id, 'failed');
    const history = row.attempt_errors!;
    expect(history).toHaveLength(20);
    expect(history[0]!.error).toBe('old 2');
    expect(history[18]!.error).toBe('old 20');
    expect(history[19]).toMatchObject({ attempt: 21, kind: 'failed' });
    expect(history[19]!.error.length).toBeLessThanOrEqual(4_000);
    expect(history[19]!.error).toBe(row.last_error);
  });

  it('replaces a history written by hand that is not an array', async () => {
    const app = await start();
    const { id } = await insertJobRow(db, {
      job_type: 'history.fails',
      queue: Q,
      payload: { length: 3 },
      max_retries: 0,
      attempt_errors: { not: 'an array' },
    });
    const row = await waitForStatus(db, id, 'failed');
    expect(row.attempt_errors).toEqual([
      expect.objectContaining({
        attempt: 1,
        error: expect.stringMatching(/^Error: xxx/),
      }),
    ]);
    await app.close();
  });

  it('records a lease expiry, without an instance', async () => {
    await start();
    const { id } = await insertJobRow(db, {
      job_type: 'history.flaky',
      queue: 'no-worker-here',
      payload: { failures: 0 },
      status: 'running',
      attempts: 1,
      started_at: dbNow('-2 min'),
      locked_until: dbNow('-1 min'),
    });
    const row = await waitForStatus(db, id, 'pending');
    expect(row.attempt_errors).toEqual([
      {
        attempt: 1,
        at: expect.any(String),
        kind: 'lease-expired',
        error: row.last_error,
        instance: null,
      },
    ]);
    expect(row.last_error).toMatch(
      /^Lease expired while attempt 1 was running/,
    );
    expect((await jobRow(db, id))!.status).toBe('pending');
  });
});
