import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import type { ClaimedJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';
import type { TestDatabase } from '../../support/test-database.js';
import {
  openWorkerRepository,
  type WorkerRepository,
} from '../../support/worker-repository.js';

const LEASE_MS = 600_000;

/** Every row's `statementMs` is a time on the statement's clock, in the order rows came. */
function expectStatementTimes(rows: readonly ClaimedJobRow[]): void {
  expect(rows.length).toBeGreaterThan(0);
  let previous = 0;
  for (const row of rows) {
    expect(typeof row.statementMs).toBe('number');
    expect(Number.isFinite(row.statementMs)).toBe(true);
    expect(row.statementMs!).toBeGreaterThanOrEqual(previous);
    previous = row.statementMs!;
  }
}

/**
 * Issue 25, point 6: the worker sizes its claims by what a claim statement took on the
 * server (ClaimSizer), not by how long node waited for it, so every claim statement reports
 * it on its rows: the plain claim, and the ordered and keyed claims that share its RETURNING.
 */
describe('claims say how long their statement ran on the server', () => {
  let opened: WorkerRepository;
  let db: TestDatabase;
  let repository: JobsRepository;

  beforeAll(async () => {
    opened = await openWorkerRepository('claim_statement_time', 1);
    ({ db, repository } = opened);
  }, 60_000);

  afterAll(() => opened?.close());

  it('the plain claim', async () => {
    await db.query(
      `INSERT INTO nest_jobs (queue, job_type)
       SELECT 'timed', 'timed' FROM generate_series(1, 50)`,
    );
    const rows = await repository.claim('timed', 50, LEASE_MS);
    expect(rows).toHaveLength(50);
    expectStatementTimes(rows);
  });

  it('the ordered and the fair keyed claim', async () => {
    for (const queue of ['timed-ordered', 'timed-fair'])
      await db.query(
        `INSERT INTO nest_jobs (queue, job_type, ordering_key, order_seq)
         SELECT $1, 'timed', 'k' || g, ${queue === 'timed-ordered' ? 'g' : 'NULL'}
         FROM generate_series(1, 20) g`,
        [queue],
      );
    expectStatementTimes(
      await repository.claimOrdered('timed-ordered', 20, LEASE_MS, {
        blockOnFailure: false,
        afterKey: '',
      }),
    );
    expectStatementTimes(
      await repository.claimFair('timed-fair', 20, LEASE_MS, {
        perKey: undefined,
        afterKey: '',
      }),
    );
  });
});
