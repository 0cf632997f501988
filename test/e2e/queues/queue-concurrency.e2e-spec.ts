import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  Job,
  JobsModule,
  JobsService,
  type JobsModuleOptions,
} from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRows, waitForStatus } from '../../support/jobs-table.js';

const WAIT = { timeoutMs: 30_000 };

let running = 0;
let highest = 0;
const starts: Array<{ key: string | null; n: number }> = [];
const perKeyRunning = new Map<string, number>();
const perKeyHighest = new Map<string, number>();

@Injectable()
class Work {
  @Job({ name: 'capped', queue: 'capped', maxRetries: 3 })
  async capped(payload: { n: number; ms: number }) {
    await this.run(null, payload);
  }

  @Job({ name: 'per-key', queue: 'per-key' })
  async perKey(payload: { key: string; n: number; ms: number }) {
    const now = (perKeyRunning.get(payload.key) ?? 0) + 1;
    perKeyRunning.set(payload.key, now);
    perKeyHighest.set(
      payload.key,
      Math.max(perKeyHighest.get(payload.key) ?? 0, now),
    );
    try {
      await this.run(payload.key, payload);
    } finally {
      perKeyRunning.set(payload.key, perKeyRunning.get(payload.key)! - 1);
    }
  }

  @Job({ name: 'capped-ordered', queue: 'capped-ordered' })
  async cappedOrdered(payload: { key: string; n: number; ms: number }) {
    await this.run(payload.key, payload);
  }

  private async run(key: string | null, payload: { n: number; ms: number }) {
    starts.push({ key, n: payload.n });
    running += 1;
    highest = Math.max(highest, running);
    await new Promise((resolve) => setTimeout(resolve, payload.ms));
    running -= 1;
  }
}

/** `queuePolicies.<queue>.concurrency` in one process whose own slots are many more. */
describe('cluster-wide queue concurrency', () => {
  const suite = useJobsSuite('queue-concurrency', { clearJobsAfterEach: true });
  const { db } = suite;
  afterEach(() => {
    running = 0;
    highest = 0;
    starts.length = 0;
    perKeyRunning.clear();
    perKeyHighest.clear();
  });

  const app = (worker: JobsModuleOptions['worker'] = {}) =>
    suite.app({
      providers: [Work],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        queuePolicies: {
          capped: { concurrency: 3 },
          'capped-ordered': { ordered: true, concurrency: 2 },
          'per-key': { keyConcurrency: 2, concurrency: 5 },
        },
        worker: {
          concurrency: 20,
          pollIntervalMs: 50,
          recoveryIntervalMs: 100,
          ...worker,
        },
      }),
    });

  it('runs at most the limit at once however many slots are free, and reaches it', async () => {
    const jobs = (await app()).get(JobsService);
    const ids = await jobs.enqueueMany(
      'capped',
      Array.from({ length: 30 }, (_, n) => ({ n, ms: 15 })),
    );
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    expect(highest).toBe(3);
  }, 60_000);

  it('an ordered queue with a limit: one job per key, at most the limit over all keys, keys in order', async () => {
    const jobs = (await app()).get(JobsService);
    const last: string[] = [];
    for (const key of ['a', 'b', 'c', 'd'])
      last.push(
        (
          await jobs.enqueueMany(
            'capped-ordered',
            Array.from({ length: 6 }, (_, n) => ({ key, n, ms: 10 })),
            { orderingKey: key },
          )
        ).at(-1)!,
      );
    for (const id of last) await waitForStatus(db, id, 'completed', WAIT);
    expect(highest).toBe(2);
    for (const key of ['a', 'b', 'c', 'd'])
      expect(starts.filter((s) => s.key === key).map((s) => s.n)).toEqual([
        0, 1, 2, 3, 4, 5,
      ]);
  }, 60_000);

  it('keyConcurrency: at most two running per key, reached by every key, at most five in all; a big key does not hold back a small one', async () => {
    const jobs = (await app()).get(JobsService);
    const big = await jobs.enqueueMany(
      'per-key',
      Array.from({ length: 40 }, (_, n) => ({ key: 'big', n, ms: 20 })),
      { concurrencyKey: 'big' },
    );
    const small: string[] = [];
    for (const key of ['s1', 's2'])
      small.push(
        ...(await jobs.enqueueMany(
          'per-key',
          Array.from({ length: 4 }, (_, n) => ({ key, n, ms: 20 })),
          { concurrencyKey: key },
        )),
      );
    for (const id of small) await waitForStatus(db, id, 'completed', WAIT);
    // The small keys finished while the big one still had most of its jobs to run.
    const bigDone = (
      await jobRows(db, "id = ANY($1::uuid[]) AND status = 'completed'", [big])
    ).length;
    expect(bigDone).toBeLessThan(30);
    for (const id of big) await waitForStatus(db, id, 'completed', WAIT);
    expect(perKeyHighest.get('big')).toBe(2);
    expect(perKeyHighest.get('s1')).toBe(2);
    expect(perKeyHighest.get('s2')).toBe(2);
    expect(highest).toBeLessThanOrEqual(5);
  }, 60_000);

  it('a running job of a dead worker keeps its slot until its lease expires and it is rescued', async () => {
    const jobs = (await app()).get(JobsService);
    const held = await jobs.enqueueMany(
      'capped',
      [0, 1, 2].map((n) => ({ n, ms: 0 })),
      { runAt: new Date(Date.now() + 60_000) },
    );
    // As a worker that died holding all three slots, their leases 1.5 s from now.
    await db.query(
      `UPDATE nest_jobs SET status = 'running', attempts = 1, started_at = now(), run_at = now(),
              locked_until = now() + interval '1500 milliseconds' WHERE id = ANY($1::uuid[])`,
      [held],
    );
    const [waiting] = await jobs.enqueueMany('capped', [{ n: 3, ms: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(starts).toEqual([]);
    expect(
      (await jobRows(db, 'id = $1', [waiting])).map((r) => r.status),
    ).toEqual(['pending']);
    await waitForStatus(db, waiting!, 'completed', WAIT);
    for (const id of held) await waitForStatus(db, id, 'completed', WAIT);
    expect(highest).toBeLessThanOrEqual(3);
  }, 60_000);
});
