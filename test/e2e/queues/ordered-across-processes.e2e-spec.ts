import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import type { OrderedPayload } from '../../chaos/fixture/protocol.js';
import { waitFor } from '../../support/wait-for.js';

const KEYS = ['k1', 'k2', 'k3', 'k4', 'k5'];
const PER_KEY = 30;

/**
 * Ordered delivery across worker processes (the chaos fixture, each worker a child process
 * booted as an application boots), with workers killed by SIGKILL while they run: the jobs
 * of a key start one at a time and in enqueue order, read from the ledger the handlers
 * write (start rows at clock_timestamp()) and the rows' finished_at. A sampler reads the
 * table every few milliseconds while the run goes on and records any key with two running jobs.
 */
describe('ordered queue across processes, workers killed', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('ordered-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it('per key: one job at a time, in enqueue order, through SIGKILLs of workers; every job completes', async () => {
    await run.cluster.startReady(['w1', 'w2', 'w3'], {
      worker: { ...CHAOS_WORKER, concurrency: 4 },
    });
    // Keys enqueued in rounds, interleaved, a few jobs per call.
    const ids = new Map<string, string[]>(KEYS.map((key) => [key, []]));
    for (let n = 0; n < PER_KEY; n += 5)
      for (const key of KEYS) {
        const payloads: OrderedPayload[] = [0, 1, 2, 3, 4].map((i) => ({
          key,
          n: n + i,
          // Every fifth job works long enough for a SIGKILL to find it running.
          ms: (n + i) % 5 === 2 ? 300 : 5 + ((n + i) % 4) * 10,
        }));
        ids
          .get(key)!
          .push(...(await run.producer.enqueueOrdered(key, payloads)));
      }

    const overlaps: string[] = [];
    let samples = 0;
    const sampler = run.spawnTask(
      (async () => {
        while (run.active) {
          const rows = await run.db.query<{ key: string; n: number }>(
            `SELECT ordering_key AS key, count(*)::int AS n FROM nest_jobs
             WHERE status = 'running' AND ordering_key IS NOT NULL
             GROUP BY ordering_key HAVING count(*) > 1`,
          );
          samples += 1;
          for (const row of rows) overlaps.push(`${row.key}: ${row.n}`);
          const [{ left }] = await run.db.query<{ left: number }>(
            `SELECT count(*)::int AS left FROM nest_jobs WHERE status <> 'completed'`,
          );
          if (left === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
    );

    // Kill a worker (SIGKILL) once some jobs ran, then another, starting a fresh one each time.
    const startedCount = async () =>
      (
        await run.db.query<{ n: number }>(
          `SELECT count(DISTINCT job_id)::int AS n FROM chaos_ledger WHERE event = 'start'`,
        )
      )[0]!.n;
    for (const after of [20, 70]) {
      await waitFor(
        `${after} jobs started`,
        async () => (await startedCount()) >= after,
        { timeoutMs: 60_000 },
      );
      // A worker in the middle of a job: the kill interrupts it.
      const victim = await waitFor(
        'a worker running a job',
        () =>
          run.cluster
            .live()
            .find((worker) => (worker.status?.running ?? 0) > 0),
        { timeoutMs: 30_000 },
      );
      victim.signal('SIGKILL');
      await victim.exited;
      await run.cluster.startReady([`${victim.worker}-again`], {
        worker: { ...CHAOS_WORKER, concurrency: 4 },
      });
    }
    await sampler;
    expect(samples).toBeGreaterThan(10);
    expect(overlaps).toEqual([]);

    // Every start of job n+1 of a key came after job n of the key finished.
    const violations = await run.db.query<{ key: string; n: number }>(
      `WITH starts AS (
         SELECT j.ordering_key AS key, (j.payload->>'n')::int AS n, l.at
         FROM chaos_ledger l JOIN nest_jobs j ON j.id = l.job_id WHERE l.event = 'start'),
       finished AS (
         SELECT ordering_key AS key, (payload->>'n')::int AS n, finished_at FROM nest_jobs)
       SELECT s.key, s.n FROM starts s JOIN finished f ON f.key = s.key AND f.n = s.n - 1
       WHERE s.at < f.finished_at`,
    );
    expect(violations).toEqual([]);
    // Per key, the jobs started in enqueue order (a job whose worker died starts again
    // before the next one).
    for (const key of KEYS) {
      const starts = (
        await run.db.query<{ n: number }>(
          `SELECT (j.payload->>'n')::int AS n FROM chaos_ledger l JOIN nest_jobs j ON j.id = l.job_id
           WHERE l.event = 'start' AND j.ordering_key = $1 ORDER BY l.at, l.id`,
          [key],
        )
      ).map((row) => row.n);
      const distinct = starts.filter((n, i) => i === 0 || starts[i - 1] !== n);
      expect(distinct).toEqual([...Array(PER_KEY).keys()]);
    }
    // The kills did interrupt jobs of the ordered queue: some ran more than once.
    const [{ again }] = await run.db.query<{ again: number }>(
      `SELECT count(*)::int AS again FROM (
         SELECT job_id FROM chaos_ledger WHERE event = 'start' GROUP BY job_id HAVING count(*) > 1) t`,
    );
    expect(again).toBeGreaterThan(0);
  }, 240_000);
});
