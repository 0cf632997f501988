import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import {
  CAPPED_QUEUE,
  CAPPED_QUEUE_LIMIT,
  PER_KEY_LIMIT,
  PER_KEY_QUEUE,
} from '../../chaos/fixture/protocol.js';
import { waitFor } from '../../support/wait-for.js';

const JOBS = 120;

/**
 * Cluster-wide limits of running jobs, per queue and per key. A limit per queue (`queuePolicies.<queue>.concurrency`) over worker
 * processes (the chaos fixture's `chaos-capped`, limit 4) whose own slots (10 each) are far
 * more: a sampler reads the table every few milliseconds while the run goes on, and the
 * running jobs of the queue never exceed the limit, also after a worker holding some of
 * them is killed by SIGKILL (their slots come back with their leases).
 */
describe('cluster-wide queue concurrency across processes', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('queue-concurrency-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(`at most ${CAPPED_QUEUE_LIMIT} running on three workers of 10 slots each, through a SIGKILL; every job completes`, async () => {
    const workers = await run.cluster.startReady(['w1', 'w2', 'w3'], {
      worker: CHAOS_WORKER,
    });
    const ids = await run.producer.enqueueCapped(
      Array.from({ length: JOBS }, (_, i) => ({
        seq: run.producer.nextSeq(),
        ms: 20 + (i % 5) * 15,
      })),
    );

    const seen: number[] = [];
    const sampler = run.spawnTask(
      (async () => {
        while (run.active) {
          const [{ running, left }] = await run.db.query<{
            running: number;
            left: number;
          }>(
            `SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
                    count(*) FILTER (WHERE status <> 'completed')::int AS left
             FROM nest_jobs WHERE queue = $1`,
            [CAPPED_QUEUE],
          );
          seen.push(running);
          if (left === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
    );

    await waitFor(
      'a third of the jobs to start',
      async () =>
        (
          await run.db.query<{ n: number }>(
            `SELECT count(DISTINCT job_id)::int AS n FROM chaos_ledger WHERE event = 'start'`,
          )
        )[0]!.n >=
        JOBS / 3,
      { timeoutMs: 60_000 },
    );
    // Kill a worker while it holds jobs of the queue: they keep their slots until rescued.
    const victim = await waitFor(
      'a worker running a job of the queue',
      () => workers.find((w) => (w.status?.running ?? 0) > 0),
      { timeoutMs: 30_000 },
    );
    victim.signal('SIGKILL');
    await victim.exited;
    await sampler;

    expect(seen.length).toBeGreaterThan(10);
    expect(Math.max(...seen)).toBe(CAPPED_QUEUE_LIMIT);
    expect(seen.filter((n) => n > CAPPED_QUEUE_LIMIT)).toEqual([]);
    const [{ done }] = await run.db.query<{ done: number }>(
      `SELECT count(*)::int AS done FROM nest_jobs WHERE id = ANY($1::uuid[]) AND status = 'completed'`,
      [ids],
    );
    expect(done).toBe(JOBS);
  }, 240_000);

  it(`at most ${PER_KEY_LIMIT} running per key of a key-limited queue on three workers, through a SIGKILL; every job completes`, async () => {
    // The two workers the first test left, and a fresh one.
    await run.cluster.startReady(['w4'], { worker: CHAOS_WORKER });
    const workers = run.cluster.live();
    expect(workers).toHaveLength(3);
    const keys = ['t1', 't2', 't3'];
    const ids: string[] = [];
    for (const key of keys)
      ids.push(
        ...(await run.producer.enqueuePerKey(
          key,
          Array.from({ length: 30 }, (_, i) => ({
            seq: run.producer.nextSeq(),
            ms: 20 + (i % 4) * 20,
          })),
        )),
      );
    const highest = new Map<string, number>();
    const sampler = run.spawnTask(
      (async () => {
        while (run.active) {
          const rows = await run.db.query<{ key: string; running: number }>(
            `SELECT ordering_key AS key, count(*)::int AS running FROM nest_jobs
             WHERE queue = $1 AND status = 'running' GROUP BY ordering_key`,
            [PER_KEY_QUEUE],
          );
          for (const { key, running } of rows)
            highest.set(key, Math.max(highest.get(key) ?? 0, running));
          const [{ left }] = await run.db.query<{ left: number }>(
            `SELECT count(*)::int AS left FROM nest_jobs WHERE queue = $1 AND status <> 'completed'`,
            [PER_KEY_QUEUE],
          );
          if (left === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
    );
    const victim = await waitFor(
      'a worker running a job',
      () => workers.find((w) => w.alive && (w.status?.running ?? 0) > 0),
      { timeoutMs: 30_000 },
    );
    victim.signal('SIGKILL');
    await victim.exited;
    await sampler;
    expect(Object.fromEntries(highest)).toEqual({
      t1: PER_KEY_LIMIT,
      t2: PER_KEY_LIMIT,
      t3: PER_KEY_LIMIT,
    });
    const [{ done }] = await run.db.query<{ done: number }>(
      `SELECT count(*)::int AS done FROM nest_jobs WHERE id = ANY($1::uuid[]) AND status = 'completed'`,
      [ids],
    );
    expect(done).toBe(ids.length);
  }, 240_000);
});
