import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ChaosRun,
  expectCleanExits,
  expectSound,
  terminate,
} from './harness/chaos-run.js';
import {
  random,
  scaled,
  scaledTimeout,
  STEADY_DEFAULT_JOBS,
} from './harness/size.js';

/**
 * Chaos scenario 1, the baseline: 4 worker processes (concurrency 10 each) and 4 concurrent
 * producer loops (bulk and single enqueues), jobs of 0-20 ms. Nothing fails, so every job
 * must run exactly once: one execution, attempt 1, one completion.
 */
describe('chaos 1: steady state', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('steady-state');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(
    'runs every job exactly once across 4 processes',
    async () => {
      const total = scaled(STEADY_DEFAULT_JOBS);
      const workers = await run.cluster.startReady(['w1', 'w2', 'w3', 'w4']);
      const startedAt = Date.now();

      let remaining = total;
      const take = (n: number) => {
        const count = Math.min(n, remaining);
        remaining -= count;
        return count;
      };
      const producerLoop = async () => {
        for (;;) {
          const bulk = take(random(20, 100));
          if (bulk > 0)
            await run.producer.enqueueWork(
              run.producer.workPayloads(bulk, 0, 20),
            );
          for (let i = 0; i < 5; i += 1) {
            if (take(1) === 0) return;
            await run.producer.enqueueWork(run.producer.workPayloads(1, 0, 20));
          }
        }
      };
      await Promise.all([1, 2, 3, 4].map(producerLoop));
      expect(run.producer.expected).toHaveLength(total);

      const result = await run.finish({}, scaledTimeout(60_000));
      const seconds = (Date.now() - startedAt) / 1000;
      const exits = await Promise.all(
        workers.map((worker) => terminate(worker, 20_000)),
      );
      const perProcess = await run.db.query<{ incarnation: string; n: string }>(
        `SELECT incarnation, count(*) AS n FROM chaos_ledger WHERE event = 'start'
         GROUP BY incarnation ORDER BY incarnation`,
      );

      run.report({
        processes: workers.length,
        concurrency: 10,
        kills: 0,
        restarts: 0,
        ...result.figures,
        perProcess: Object.fromEntries(
          perProcess.map((row) => [row.incarnation, Number(row.n)]),
        ),
        seconds: Math.round(seconds * 10) / 10,
        jobsPerSecond: Math.round(total / seconds),
      });

      expectSound(result);
      expect(result.figures.completed).toBe(total);
      expect(result.figures.executions).toBe(total);
      expect(result.figures.reExecutedJobs).toBe(0);
      expect(result.figures.maxAttempts).toBe(1);
      // Nothing can lose a lease here: a warning would be a false alarm.
      expect(result.figures.leaseLostWarnings.total).toBe(0);
      // Every process took part (the claim spreads work; one process alone would be a bug).
      expect(perProcess).toHaveLength(4);
      expectCleanExits(exits);
    },
    scaledTimeout(120_000),
  );
});
