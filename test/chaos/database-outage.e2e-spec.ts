import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EnqueueFailedError } from 'nest-jobs';
import { waitFor } from '../support/wait-for.js';
import { applicationNameOf, type WorkPayload } from './fixture/protocol.js';
import {
  CHAOS_WORKER,
  ChaosRun,
  expectCleanExits,
  expectSound,
  terminate,
} from './harness/chaos-run.js';
import type { Incarnation } from './harness/cluster.js';
import { RestartableServer } from './harness/restartable-server.js';
import { createTestDatabase } from '../support/test-database.js';
import {
  chaosScale,
  random,
  scaled,
  scaledTimeout,
  sleep,
} from './harness/size.js';

/** Liveness bound of one enqueue during an outage: it must settle (here: fail) by then. */
const ENQUEUE_BOUND_MS = 10_000;
/** How long the server stays down at least (the cause of the outage, not a wait for an effect). */
const DOWN_MS = 1_500;

class EnqueueHung extends Error {}

/**
 * Chaos scenario 3: the database goes away under a running system. Its own embedded
 * PostgreSQL (own port and data directory) serves 3 worker processes and a producer that
 * enqueues continuously. In turn:
 *  A. pg_terminate_backend on every connection of the workers, their LISTEN connections
 *     included: each worker must re-establish its LISTEN connection and keep working;
 *  B. a clean restart (fast shutdown, start again on the same port and data directory);
 *  C. a crash restart (SIGQUIT to the postmaster: immediate shutdown, WAL replay at start).
 * (Once in the default run; the larger runs repeat the cycle.)
 * During B and C every enqueue must settle (with an EnqueueFailedError) within a bound,
 * never hang. Afterwards every committed job completes exactly once; attempts cut by the
 * outage fail and are retried, and the workers' leases (10 s) must survive the outages, so
 * no attempt may be rescued from a live worker.
 */
describe('chaos 3: database outages', () => {
  let server: RestartableServer | undefined;
  let run: ChaosRun;
  beforeAll(async () => {
    server = await RestartableServer.start();
    run = await ChaosRun.open('database-outage', {
      database: () => createTestDatabase('chaos_outage', server!.url),
      worker: { ...CHAOS_WORKER, leaseMs: 10_000, heartbeatIntervalMs: 500 },
    });
  }, 90_000);
  afterAll(async () => {
    try {
      await server?.up(); // the database is dropped through it
      await run?.close();
    } finally {
      await server?.destroy();
    }
  }, 60_000);

  it(
    'survives killed connections and restarts; enqueues fail fast during the outage',
    async () => {
      const minJobs = scaled(3_000);
      const workers = await run.cluster.startReady(['w1', 'w2', 'w3']);

      // The producer: keeps a backlog, and keeps trying through the outages.
      let stop = false;
      let hung = 0;
      const errors: Array<{ error: unknown; ms: number }> = [];
      const failedSeqs = new Set<number>();
      let slowestDuringOutageMs = 0;
      let outage = false;
      const produce = async () => {
        while (!stop && run.active) {
          const backlog = await run.db
            .query<{ n: string }>(
              `SELECT count(*) AS n FROM nest_jobs WHERE status = 'pending'`,
            )
            .then(([row]) => Number(row!.n))
            .catch(() => 0);
          if (backlog >= 200) {
            await sleep(30); // pacing
            continue;
          }
          const payloads: WorkPayload[] = run.producer.workPayloads(
            Math.random() < 0.7 ? random(10, 50) : 1,
            5,
            60,
          );
          const startedAt = Date.now();
          try {
            await settleWithin(
              run.producer.enqueueWork(payloads),
              ENQUEUE_BOUND_MS,
            );
          } catch (error) {
            if (error instanceof EnqueueHung) {
              hung += 1;
              return;
            }
            errors.push({ error, ms: Date.now() - startedAt });
            for (const payload of payloads) failedSeqs.add(payload.seq);
            await sleep(50); // pacing while the database is away
          }
          if (outage)
            slowestDuringOutageMs = Math.max(
              slowestDuringOutageMs,
              Date.now() - startedAt,
            );
        }
      };
      const production = run.spawnTask(produce());

      const completed = async () =>
        Number(
          (
            await run.db.query<{ n: string }>(
              `SELECT count(*) AS n FROM nest_jobs WHERE status = 'completed'`,
            )
          )[0]!.n,
        );
      const progress = async (jobs: number) => {
        const from = await completed();
        await waitFor(
          `${jobs} more completed jobs (from ${from})`,
          async () => (await completed()) >= from + jobs,
          { timeoutMs: scaledTimeout(30_000), intervalMs: 100 },
        );
      };

      const cycles = Math.max(1, Math.round(Math.sqrt(chaosScale())));
      const outages: Array<{ kind: string; ms: number; errors: number }> = [];
      let terminatedBackends = 0;
      let terminatedListeners = 0;
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        // A. Terminate every worker connection, the LISTEN connections included.
        await progress(300);
        const listenersBefore = await listenerPids(run, workers);
        const terminated = await run.db.query<{ application_name: string }>(
          `SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name LIKE 'chaos w%'`,
        );
        const listeners = terminated.filter((row) =>
          row.application_name.endsWith('(listener)'),
        ).length;
        expect(listeners).toBe(workers.length);
        terminatedBackends += terminated.length;
        terminatedListeners += listeners;
        await waitForNewListeners(run, workers, listenersBefore);
        await progress(300);

        // B and C. A clean restart, then a crash restart.
        for (const kind of ['restart', 'crash'] as const) {
          const listeners = await listenerPids(run, workers);
          const errorsBefore = errors.length;
          const downAt = Date.now();
          outage = true;
          if (kind === 'restart') await server!.down();
          else await server!.crash();
          await waitFor(
            'the producer to get an enqueue error',
            () => errors.length > errorsBefore,
            { timeoutMs: ENQUEUE_BOUND_MS * 2 },
          );
          await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
          await server!.up();
          outage = false;
          outages.push({
            kind,
            ms: Date.now() - downAt,
            errors: errors.length - errorsBefore,
          });
          await waitForNewListeners(run, workers, listeners);
          await progress(300);
        }
      }

      await waitFor(
        `${minJobs} jobs enqueued`,
        () => run.producer.expected.length >= minJobs,
        { timeoutMs: scaledTimeout(60_000), intervalMs: 100 },
      );
      stop = true;
      await production;

      // An enqueue that failed may still have committed (the connection died after the
      // commit, before the reply): such a job must run too, it is not a phantom.
      const ambiguous = await run.db.query<{ id: string }>(
        `SELECT id FROM nest_jobs WHERE (payload->>'seq')::int = ANY($1::int[])`,
        [[...failedSeqs]],
      );
      for (const { id } of ambiguous)
        run.producer.expected.push({ id, kind: 'work', end: 'completed' });

      const result = await run.finish(
        { failedAttemptsOfGoodJobs: true, lostClaimReplies: true },
        scaledTimeout(90_000),
      );
      const crashed = run.cluster.incarnations.filter((i) => !i.alive);
      const exits = await Promise.all(
        workers.map((worker) => terminate(worker, 20_000)),
      );

      run.report({
        database: 'its own embedded server',
        workers: workers.length,
        restarts: 0,
        terminatedBackends,
        terminatedListeners,
        outages,
        enqueueErrors: errors.length,
        enqueueHangs: hung,
        slowestEnqueueDuringOutageMs: slowestDuringOutageMs,
        committedDespiteError: ambiguous.length,
        ...result.figures,
        seconds: run.elapsedSeconds(),
      });

      expect(hung).toBe(0);
      expect(slowestDuringOutageMs).toBeLessThan(ENQUEUE_BOUND_MS);
      expect(outages.every((outage) => outage.errors > 0)).toBe(true);
      for (const { error } of errors) {
        expect(error).toBeInstanceOf(EnqueueFailedError);
        expect((error as EnqueueFailedError).jobNames).toContain('chaos.work');
        expect((error as Error).cause).toBeDefined();
      }
      // No worker died on the way (a crash would show as an exit before the SIGTERM).
      expect(crashed.map((i) => `${i.id}: ${JSON.stringify(i.exit)}`)).toEqual(
        [],
      );
      expectSound(result);
      // The outages really cut attempts in flight.
      expect(result.figures.rerunReasons['failed-and-retried']).toBeGreaterThan(
        0,
      );
      expectCleanExits(exits);
    },
    scaledTimeout(180_000),
  );
});

function settleWithin<T>(promise: Promise<T>, boundMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new EnqueueHung(`enqueue did not settle in ${boundMs} ms`)),
        boundMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The backend pid of each worker's LISTEN connection (undefined: none right now). */
async function listenerPids(
  run: ChaosRun,
  workers: Incarnation[],
): Promise<Map<string, number | undefined>> {
  const rows = await run.db.query<{ application_name: string; pid: number }>(
    `SELECT application_name, pid FROM pg_stat_activity
     WHERE datname = current_database() AND application_name LIKE '% (listener)'
       AND query ILIKE 'LISTEN %'`,
  );
  return new Map(
    workers.map((worker) => [
      worker.id,
      rows.find(
        (row) =>
          row.application_name === `${applicationNameOf(worker.id)} (listener)`,
      )?.pid,
    ]),
  );
}

/** Waits until every worker has a LISTEN connection other than the one it had before. */
async function waitForNewListeners(
  run: ChaosRun,
  workers: Incarnation[],
  before: Map<string, number | undefined>,
): Promise<void> {
  await waitFor(
    'every worker to re-establish its LISTEN connection',
    async () => {
      const now = await listenerPids(run, workers);
      return workers.every((worker) => {
        const pid = now.get(worker.id);
        return pid !== undefined && pid !== before.get(worker.id);
      });
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}
