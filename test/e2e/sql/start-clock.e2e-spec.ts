import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import type { TestDatabase } from '../../support/test-database.js';
import {
  openWorkerRepository,
  type WorkerRepository,
} from '../../support/worker-repository.js';

const LEASE_MS = 600_000;
const RATE = { limit: 5, periodMs: 2_000 };

/**
 * The claims of a rate-limited queue run one at a time under the queue's lock, but each
 * transaction's now() is read when it began, before the lock wait: a claim that began
 * first and got the lock second used to count its window from, and record its starts at,
 * an earlier time than the claim before it, so a later window could miss them and hold more
 * than the limit (seen: 81 starts in a window limited to 80). A start recorded later than
 * the transaction's now() stands for such a claim; the next claim must count and record
 * from it, never before it.
 */
describe('the starts of a rate-limited queue are counted and recorded in claim order', () => {
  let opened: WorkerRepository;
  let db: TestDatabase;
  let repository: JobsRepository;

  beforeAll(async () => {
    opened = await openWorkerRepository('start_clock', 2);
    ({ db, repository } = opened);
  }, 60_000);

  afterAll(() => opened?.close());

  it.each([
    { kind: 'plain', keyed: false },
    { kind: 'fair keyed, limited per key', keyed: true },
  ])(
    '$kind queue: never before the latest recorded start',
    async ({ kind, keyed }) => {
      const queue = `rated-${keyed ? 'keyed' : 'plain'}`;
      await db.query(
        `INSERT INTO nest_jobs (queue, job_type, ordering_key)
         SELECT $1, 'rated', ${keyed ? `'k' || g` : 'NULL'} FROM generate_series(1, 20) g`,
        [queue],
      );
      // A claim that committed 300 ms "later" than this one's transaction began.
      const [{ at: latest }] = await db.query<{ at: string }>(
        `INSERT INTO nest_jobs_starts (queue, ordering_key, started_at)
         VALUES ($1, ${keyed ? `'k1'` : 'NULL'}, now() + interval '300 milliseconds')
         RETURNING started_at::text AS at`,
        [queue],
      );
      const claimed = await repository.claimCapped(
        queue,
        10,
        LEASE_MS,
        keyed ? { keyRate: RATE } : { rate: RATE },
        keyed ? { perKey: undefined, afterKey: '' } : null,
      );
      // The recorded start counted: one fewer for the queue (plain), or key k1 (keyed).
      expect(claimed).toHaveLength(keyed ? 10 : RATE.limit - 1);
      const [order] = await db.query<{
        starts_before: number;
        jobs_before: number;
      }>(
        `SELECT (SELECT count(*)::int FROM nest_jobs_starts
                 WHERE queue = $1 AND started_at < $2::timestamptz) AS starts_before,
                (SELECT count(*)::int FROM nest_jobs
                 WHERE queue = $1 AND started_at < $2::timestamptz) AS jobs_before`,
        [queue, latest],
      );
      expect({ kind, ...order }).toEqual({
        kind,
        starts_before: 0,
        jobs_before: 0,
      });
    },
  );
});
