import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsModule, JobsService } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';

const WAIT = { timeoutMs: 30_000 };
const PERIOD_MS = 1_000;
const KEY_LIMIT = 3;
/** Longer than the run: only the worker's own wake-up at a key's reopening claims again. */
const POLL_MS = 20_000;

/** The order the handlers started in, with each job's key. */
const starts: Array<{ key: string; n: number }> = [];

@Injectable()
class Tenants {
  @Job({ name: 'sync', queue: 'sync', maxRetries: 0 })
  async sync(payload: { key: string; n: number }) {
    starts.push(payload);
  }

  @Job({ name: 'post', queue: 'ledger', maxRetries: 0 })
  async post(payload: { key: string; n: number }) {
    starts.push(payload);
  }

  @Job({ name: 'export', queue: 'exports', maxRetries: 0 })
  async export(payload: { key: string; n: number; ms: number }) {
    starts.push(payload);
    await new Promise((resolve) => setTimeout(resolve, payload.ms));
  }
}

/**
 * `queuePolicies.<queue>.keyRateLimit` (starts per key per period) and `fair` (keys round
 * robin without a limit) in one process; across processes in
 * key-rate-limit-across-processes.e2e-spec.ts.
 */
describe('rate limit per key, and fair keyed queues', () => {
  const suite = useJobsSuite('key-rate-limit', { clearJobsAfterEach: true });
  const { db } = suite;
  afterEach(() => {
    starts.length = 0;
  });

  const app = (concurrency = 20, claimAhead?: number) =>
    suite.app({
      providers: [Tenants],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        queuePolicies: {
          sync: {
            keyRateLimit: { limit: KEY_LIMIT, periodMs: PERIOD_MS },
          },
          ledger: {
            ordered: true,
            keyRateLimit: { limit: 2, periodMs: PERIOD_MS },
          },
          exports: { fair: true },
        },
        worker: { concurrency, claimAhead, pollIntervalMs: POLL_MS },
      }),
    });

  /** The most starts of one key in any window of `periodMs` (started_at, the claim's clock). */
  const busiestWindow = (queue: string) =>
    db.query<{ key: string; n: number }>(
      `SELECT key, max(n)::int AS n FROM (
         SELECT j.ordering_key AS key,
                (SELECT count(*) FROM nest_jobs o
                 WHERE o.queue = j.queue AND o.ordering_key = j.ordering_key
                   AND o.started_at > j.started_at - $2::bigint * interval '1 millisecond'
                   AND o.started_at <= j.started_at) AS n
         FROM nest_jobs j WHERE j.queue = $1) w
       GROUP BY key ORDER BY key`,
      [queue, PERIOD_MS],
    );

  it(`starts at most ${KEY_LIMIT} jobs of a key in any ${PERIOD_MS} ms, uses the limit, wakes itself when the key reopens, and a flooded key does not hold back another`, async () => {
    const jobs = (await app()).get(JobsService);
    const big = await jobs.enqueueMany(
      'sync',
      Array.from({ length: 4 * KEY_LIMIT }, (_, n) => ({ key: 'big', n })),
      { concurrencyKey: 'big' },
    );
    // The big key spends its first window at once; the small key's jobs come later and
    // must not wait for the big key's next window.
    await waitForStatus(db, big[KEY_LIMIT - 1]!, 'completed', WAIT);
    const small = await jobs.enqueueMany(
      'sync',
      [0, 1].map((n) => ({ key: 'small', n })),
      { concurrencyKey: 'small' },
    );
    for (const id of [...big, ...small])
      await waitForStatus(db, id, 'completed', WAIT);
    expect(await busiestWindow('sync')).toEqual([
      { key: 'big', n: KEY_LIMIT },
      { key: 'small', n: 2 },
    ]);
    // Both small jobs started before the big key's fourth (its second window).
    const order = starts.map((s) => `${s.key}${s.n}`);
    expect(order.indexOf('small1')).toBeLessThan(order.indexOf('big3'));
    // Twelve jobs at three per window: at least three windows after the first claim,
    // and no wait for the poll.
    const [{ spanMs }] = await db.query<{ spanMs: number }>(
      `SELECT date_part('epoch', max(started_at) - min(started_at)) * 1000 AS "spanMs"
       FROM nest_jobs WHERE ordering_key = 'big'`,
    );
    expect(spanMs).toBeGreaterThanOrEqual(3 * PERIOD_MS);
    expect(spanMs).toBeLessThan(POLL_MS);
  }, 60_000);

  it('an ordered queue limited per key keeps each key in order under its rate', async () => {
    const jobs = (await app()).get(JobsService);
    const ids = [
      ...(await jobs.enqueueMany(
        'post',
        Array.from({ length: 5 }, (_, n) => ({ key: 'a', n })),
        { orderingKey: 'a' },
      )),
      ...(await jobs.enqueueMany(
        'post',
        Array.from({ length: 3 }, (_, n) => ({ key: 'b', n })),
        { orderingKey: 'b' },
      )),
    ];
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    expect(await busiestWindow('ledger')).toEqual([
      { key: 'a', n: 2 },
      { key: 'b', n: 2 },
    ]);
    for (const key of ['a', 'b'])
      expect(starts.filter((s) => s.key === key).map((s) => s.n)).toEqual(
        [0, 1, 2, 3, 4].slice(0, key === 'a' ? 5 : 3),
      );
  }, 60_000);

  it('fair: a key with many ready jobs does not delay a key with few beyond one turn per slot', async () => {
    const slots = 2;
    // Jobs claimed ahead of the slots (about 50 ms of work by default) were claimed before
    // the small key's enqueue and start before it: the bound is the claim order's.
    const jobs = (await app(slots, 0)).get(JobsService);
    const big = await jobs.enqueueMany(
      'export',
      Array.from({ length: 60 }, (_, n) => ({ key: 'big', n, ms: 15 })),
      { concurrencyKey: 'big' },
    );
    await waitForStatus(db, big[3]!, 'completed', WAIT);
    const small = await jobs.enqueueMany(
      'export',
      [0, 1, 2].map((n) => ({ key: 'small', n, ms: 15 })),
      { concurrencyKey: 'small' },
    );
    const enqueuedAt = starts.length;
    for (const id of small) await waitForStatus(db, id, 'completed', WAIT);
    // From the small key's enqueue to its last start, the big key got at most one turn
    // per small job per slot: claims alternate the two keys.
    const order = starts.map((s) => `${s.key}${s.n}`);
    const between = order
      .slice(enqueuedAt, order.indexOf('small2'))
      .filter((s) => s.startsWith('big')).length;
    expect(between).toBeLessThanOrEqual(small.length * slots);
    // The big key still had jobs waiting when the small key was done.
    const [{ left }] = await db.query<{ left: number }>(
      `SELECT count(*)::int AS left FROM nest_jobs WHERE ordering_key = 'big' AND started_at IS NULL`,
    );
    expect(left).toBeGreaterThan(small.length * slots);
  }, 60_000);
});
