import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import type { TestDatabase } from '../../support/test-database.js';
import {
  openWorkerRepository,
  type WorkerRepository,
} from '../../support/worker-repository.js';

const QUEUE = 'plans';
const LEASE_MS = 600_000;
/** Pending jobs added once the worker's claims have run on the nearly empty table. */
const GROWN = 20_000;
const ORDERED = 'plans-ordered';
const FAIR = 'plans-fair';
const WEIGHTED = 'plans-weighted';

/**
 * Issue 25: a worker that started on an empty table, with autovacuum off (so no ANALYZE
 * follows), claimed through a plan made for that empty table. Prepared, the claim switched
 * to a generic plan after its fifth run, a sequential scan of the table to reach the rows it
 * locked, and kept it as the table grew: every claim read the whole table. The claim is
 * planned per call, so it reaches them through an index at any size. What PostgreSQL ran
 * is read from the table's sequential-scan counter, on the one connection the claims use.
 */
describe('a claim reaches its rows through an index however the table grew since the worker started', () => {
  let opened: WorkerRepository;
  let db: TestDatabase;
  let pool: pg.Pool;
  let repository: JobsRepository;

  beforeAll(async () => {
    opened = await openWorkerRepository('claim_plan', 1);
    ({ db, pool, repository } = opened);
    await db.query(
      'ALTER TABLE nest_jobs SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)',
    );
  }, 60_000);

  afterAll(() => opened?.close());

  /** Sequential scans of nest_jobs so far, the claims' connection's own counts flushed. */
  async function sequentialScans(): Promise<number> {
    await pool.query('SELECT pg_stat_force_next_flush()');
    const [row] = await db.query<{ seq_scan: string }>(
      `SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'nest_jobs'`,
    );
    return Number(row!.seq_scan);
  }

  it('claims by index after the table grew from 100 rows to 20,000', async () => {
    await db.query(
      `INSERT INTO nest_jobs (queue, job_type)
       SELECT $1, 'planned' FROM generate_series(1, 100)`,
      [QUEUE],
    );
    // A worker's first claims, on a table of two pages: more than the five custom plans
    // after which a prepared statement may keep a generic one.
    let claimed = 0;
    for (let i = 0; i < 8; i += 1)
      claimed += (await repository.claim(QUEUE, 20, LEASE_MS)).length;
    expect(claimed).toBe(100);

    await db.query(
      `INSERT INTO nest_jobs (queue, job_type)
       SELECT $1, 'planned' FROM generate_series(1, $2::int)`,
      [QUEUE, GROWN],
    );
    const before = await sequentialScans();
    expect(await repository.claim(QUEUE, 50, LEASE_MS)).toHaveLength(50);
    expect(await sequentialScans()).toBe(before);
  });

  // Ordered and keyed queues claim through their own statements (a walk of the keys, then
  // an UPDATE by id), prepared the same way.
  it.each([
    {
      kind: 'ordered',
      queue: ORDERED,
      seq: 'g',
      claim: (limit: number) =>
        repository.claimOrdered(ORDERED, limit, LEASE_MS, {
          blockOnFailure: false,
          afterKey: '',
        }),
    },
    {
      kind: 'fair keyed',
      queue: FAIR,
      seq: 'NULL',
      claim: (limit: number) =>
        repository.claimFair(FAIR, limit, LEASE_MS, {
          perKey: undefined,
          afterKey: '',
        }),
    },
    {
      // fair: { weights }: its own statement (a weight per key walked, from a JSON parameter).
      kind: 'weighted keyed',
      queue: WEIGHTED,
      seq: 'NULL',
      claim: (limit: number) =>
        repository.claimFair(WEIGHTED, limit, LEASE_MS, {
          perKey: undefined,
          afterKey: '',
          weights: {
            byKey: new Map([['k1', 3]]),
            json: '{"k1": 3}',
            defaultWeight: 2,
          },
        }),
    },
  ])(
    'the $kind claim reaches its rows through an index after the table grew',
    async ({ queue, seq, claim }) => {
      const fill = (from: number, to: number) =>
        db.query(
          `INSERT INTO nest_jobs (queue, job_type, ordering_key, order_seq)
           SELECT $1, 'planned', 'k' || (g % 400), ${seq}
           FROM generate_series($2::int, $3::int) g`,
          [queue, from, to],
        );
      await fill(1, 100);
      for (let i = 0; i < 8; i += 1) {
        const rows = await claim(20);
        // Done at once, so the next claim finds the keys free (ordered: one running each).
        await db.query(
          `UPDATE nest_jobs SET status = 'completed', finished_at = now() WHERE id = ANY($1::uuid[])`,
          [rows.map((row) => row.id)],
        );
      }
      await fill(101, 100 + GROWN);
      const before = await sequentialScans();
      expect(await claim(50)).toHaveLength(50);
      expect(await sequentialScans()).toBe(before);
    },
  );
});
