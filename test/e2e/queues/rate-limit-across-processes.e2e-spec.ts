import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import {
  RATED_LIMIT,
  RATED_PERIOD_MS,
  RATED_QUEUE,
} from '../../chaos/fixture/protocol.js';

const JOBS = 100;

/**
 * A cluster-wide rate limit (`queuePolicies.<queue>.rateLimit`, the fixture's `chaos-rated`:
 * 20 starts per 2 s) over three worker processes of 10 slots each, one killed by SIGKILL
 * midway. Each job's claim time (`started_at`, the claim transaction's clock, which the
 * limit counts on) is read from its row: no window of the period holds more than the limit,
 * and the busiest windows hold exactly the limit (the limit is used, not only respected).
 */
describe('cluster-wide rate limit across processes', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('rate-limit-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(`at most ${RATED_LIMIT} starts in any ${RATED_PERIOD_MS} ms on three workers, through a SIGKILL; every job completes`, async () => {
    const workers = await run.cluster.startReady(['w1', 'w2', 'w3'], {
      worker: CHAOS_WORKER,
    });
    const ids = await run.producer.enqueueRated(
      Array.from({ length: JOBS }, () => ({
        seq: run.producer.nextSeq(),
        ms: 10,
      })),
    );
    // Kill one worker once the second window has begun.
    await new Promise((resolve) => setTimeout(resolve, RATED_PERIOD_MS * 1.2));
    workers[0]!.signal('SIGKILL');
    await workers[0]!.exited;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ left }] = await run.db.query<{ left: number }>(
        `SELECT count(*)::int AS left FROM nest_jobs WHERE id = ANY($1::uuid[]) AND status <> 'completed'`,
        [ids],
      );
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${left} jobs left`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // A row keeps the claim time of its last attempt only: an attempt the kill interrupted
    // (rare with 10 ms jobs) is missing here, though its claim counted against the limit.
    const [{ busiest }] = await run.db.query<{ busiest: number }>(
      `SELECT max(n)::int AS busiest FROM (
         SELECT (SELECT count(*) FROM nest_jobs o WHERE o.id = ANY($1::uuid[])
                   AND o.started_at > j.started_at - $2::bigint * interval '1 millisecond'
                   AND o.started_at <= j.started_at) AS n
         FROM nest_jobs j WHERE j.id = ANY($1::uuid[])) windows`,
      [ids, RATED_PERIOD_MS],
    );
    expect(busiest).toBeLessThanOrEqual(RATED_LIMIT);
    expect(busiest).toBeGreaterThanOrEqual(RATED_LIMIT - 2);
  }, 240_000);
});
