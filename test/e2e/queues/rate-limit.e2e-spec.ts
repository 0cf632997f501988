import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsModule, JobsService, SnoozeJob } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';

const WAIT = { timeoutMs: 30_000 };
const PERIOD_MS = 500;
const LIMIT = 4;
/** Longer than the run: only the worker's own wake-up at the window's reopening claims again. */
const POLL_MS = 20_000;

/** Calls to the partner's API, which answers 429 for a job's first call. */
const calls: Array<{ id: string; attempt: number }> = [];

@Injectable()
class Partner {
  @Job({ name: 'rated', queue: 'rated', maxRetries: 0 })
  async rated() {}

  @Job({ name: 'partner.call', queue: 'partner', maxRetries: 0 })
  async call(_payload: unknown, ctx: { id: string; attempt: number }) {
    calls.push({ id: ctx.id, attempt: ctx.attempt });
    // An HTTP 429 with Retry-After: come back later, without using up the only attempt.
    if (calls.filter((c) => c.id === ctx.id).length === 1)
      throw new SnoozeJob(50);
  }
}

/** `queuePolicies.<queue>.rateLimit` in one process, and a handler's "come back later". */
describe('cluster-wide rate limit', () => {
  const suite = useJobsSuite('rate-limit', { clearJobsAfterEach: true });
  const { db } = suite;
  afterEach(() => {
    calls.length = 0;
  });

  const app = () =>
    suite.app({
      providers: [Partner],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        queuePolicies: {
          rated: { rateLimit: { limit: LIMIT, periodMs: PERIOD_MS } },
        },
        worker: { concurrency: 20, pollIntervalMs: POLL_MS },
      }),
    });

  it(`starts at most ${LIMIT} jobs in any ${PERIOD_MS} ms, uses the limit, and wakes itself when the window reopens (no poll within the run)`, async () => {
    const jobs = (await app()).get(JobsService);
    const ids = await jobs.enqueueMany(
      'rated',
      Array.from({ length: 12 }, () => ({})),
    );
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    const windows = await db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM nest_jobs o
               WHERE o.started_at > j.started_at - $1::bigint * interval '1 millisecond'
                 AND o.started_at <= j.started_at) AS n
       FROM nest_jobs j`,
      [PERIOD_MS],
    );
    expect(Math.max(...windows.map((w) => w.n))).toBe(LIMIT);
    // Twelve jobs at four per window: at least two windows after the first claim.
    const [{ spanMs }] = await db.query<{ spanMs: number }>(
      `SELECT date_part('epoch', max(started_at) - min(started_at)) * 1000 AS "spanMs" FROM nest_jobs`,
    );
    expect(spanMs).toBeGreaterThanOrEqual(2 * PERIOD_MS);
    expect(spanMs).toBeLessThan(POLL_MS);
  }, 60_000);

  it('a handler told "rate limited, come back in X ms" (SnoozeJob) runs again without using an attempt', async () => {
    const jobs = (await app()).get(JobsService);
    const id = await jobs.enqueue('partner.call', {});
    const row = await waitForStatus(db, id, 'completed', WAIT);
    expect(calls).toEqual([
      { id, attempt: 1 },
      { id, attempt: 1 },
    ]);
    expect(row.attempts).toBe(1);
  }, 60_000);
});
