import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import {
  KEY_RATED_LIMIT,
  KEY_RATED_PERIOD_MS,
  KEY_RATED_QUEUE,
} from '../../chaos/fixture/protocol.js';

const FLOOD = 3 * KEY_RATED_LIMIT;
const SMALL_KEYS = ['s1', 's2', 's3'];
const SMALL_JOBS = 3;

/**
 * A rate limit per key (`queuePolicies.<queue>.keyRateLimit`, the fixture's
 * `chaos-key-rated`: 10 starts of a key per 2 s) over three worker processes of 10 slots
 * each. A key flooded with three windows' worth of jobs, then three small keys: each job's
 * claim time (`started_at`, the claim transaction's clock, which the limit counts on) is
 * read from its row. No key's window holds more than the limit, the flooded key's busiest
 * holds exactly the limit, and every small key's jobs start before the flooded key's next
 * window: a key whose window is spent is passed over, not waited for.
 */
describe('rate limit per key across processes', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('key-rate-limit-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(`at most ${KEY_RATED_LIMIT} starts of a key in any ${KEY_RATED_PERIOD_MS} ms on three workers; a flooded key does not hold back the others`, async () => {
    await run.cluster.startReady(['w1', 'w2', 'w3'], { worker: CHAOS_WORKER });
    const payloads = (n: number) =>
      Array.from({ length: n }, () => ({
        seq: run.producer.nextSeq(),
        ms: 10,
      }));
    const ids = await run.producer.enqueueKeyRated('flood', payloads(FLOOD));
    // The flooded key spends its first window before the small keys arrive.
    const deadline = Date.now() + 60_000;
    const startedOf = async (key: string) =>
      (
        await run.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM nest_jobs WHERE queue = $1 AND ordering_key = $2 AND started_at IS NOT NULL`,
          [KEY_RATED_QUEUE, key],
        )
      )[0]!.n;
    while ((await startedOf('flood')) < KEY_RATED_LIMIT) {
      if (Date.now() > deadline) throw new Error('the flood did not start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const key of SMALL_KEYS)
      ids.push(
        ...(await run.producer.enqueueKeyRated(key, payloads(SMALL_JOBS))),
      );
    for (;;) {
      const [{ left }] = await run.db.query<{ left: number }>(
        `SELECT count(*)::int AS left FROM nest_jobs WHERE id = ANY($1::uuid[]) AND status <> 'completed'`,
        [ids],
      );
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${left} jobs left`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const busiest = await run.db.query<{ key: string; n: number }>(
      `SELECT key, max(n)::int AS n FROM (
         SELECT j.ordering_key AS key,
                (SELECT count(*) FROM nest_jobs o
                 WHERE o.queue = $1 AND o.ordering_key = j.ordering_key
                   AND o.started_at > j.started_at - $2::bigint * interval '1 millisecond'
                   AND o.started_at <= j.started_at) AS n
         FROM nest_jobs j WHERE j.queue = $1) w
       GROUP BY key ORDER BY key`,
      [KEY_RATED_QUEUE, KEY_RATED_PERIOD_MS],
    );
    expect(busiest).toEqual([
      { key: 'flood', n: KEY_RATED_LIMIT },
      ...SMALL_KEYS.map((key) => ({ key, n: SMALL_JOBS })),
    ]);
    // The small keys' last start comes before the flooded key's first start of its
    // second window.
    const [{ smallLast, floodSecond }] = await run.db.query<{
      smallLast: Date;
      floodSecond: Date;
    }>(
      `SELECT (SELECT max(started_at) FROM nest_jobs WHERE queue = $1 AND ordering_key <> 'flood') AS "smallLast",
              (SELECT started_at FROM nest_jobs WHERE queue = $1 AND ordering_key = 'flood'
               ORDER BY started_at OFFSET $2 LIMIT 1) AS "floodSecond"`,
      [KEY_RATED_QUEUE, KEY_RATED_LIMIT],
    );
    expect(smallLast.getTime()).toBeLessThan(floodSecond.getTime());
  }, 120_000);
});
