import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  attemptKey,
  type AttemptRef,
} from '../../../packages/nest-jobs/src/sql/job-rows.js';
import { MIGRATION_DEFINITIONS } from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import { migrateJobsTable } from '../../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  updateJobRow,
  type JobRow,
} from '../../support/jobs-table.js';
import { useTableSuite } from '../../support/table-suite.js';

const QUEUE = 'fence';
const LEASE_MS = 60_000;

/**
 * The fence of an attempt's writes, statement by statement: (id, attempts, releases). A
 * release at shutdown takes its attempt back (`attempts` - 1) and moves the fence
 * (`releases` + 1), so nothing the released attempt sends later lands on the job, whoever
 * claimed it since, this version or the previous one (which knows only `attempts`).
 */
describe('attempt fence (id, attempts, releases)', () => {
  const suite = useTableSuite('attempt_fence', {
    afterEachSql: 'DELETE FROM nest_jobs',
  });
  const { db } = suite;
  beforeAll(() =>
    migrateJobsTable(suite.dataSource, suite.repository, MIGRATION_DEFINITIONS),
  );

  async function claimOne(): Promise<AttemptRef> {
    const [row, ...more] = await suite.repository.claim(QUEUE, 10, LEASE_MS);
    expect(more).toEqual([]);
    return { id: row!.id, attempt: row!.attempt, releases: row!.releases };
  }

  /** Every write a stale attempt could still send: none may match. */
  async function expectEveryWriteRefused(stale: AttemptRef): Promise<void> {
    const before = await jobRow(db, stale.id);
    expect(await suite.repository.heartbeat([stale], LEASE_MS)).toEqual({
      renewed: new Set(),
      cancelled: new Set(),
      busy: new Set(),
    });
    expect(await suite.repository.complete([stale])).toBe(0);
    expect(await suite.repository.complete([stale], true)).toBe(0);
    expect(
      await suite.repository.fail([
        { ...stale, error: 'late', retryInMs: null },
      ]),
    ).toBe(0);
    expect(
      await suite.repository.fail([{ ...stale, error: 'late', retryInMs: 0 }]),
    ).toBe(0);
    expect(await suite.repository.release([stale], 'late release')).toBe(0);
    // The writes a handler makes in a transaction, and a checkpoint on the pool.
    expect(
      await suite.repository.saveCheckpoint(undefined, stale, '1', true),
    ).toBe(false);
    expect(await suite.repository.attemptHeld(stale)).toBe(false);
    await suite.repository.sql.transaction(async (executor) => {
      expect(await suite.repository.completeIn(executor, stale, false)).toBe(
        false,
      );
      expect(await suite.repository.completeIn(executor, stale, true)).toBe(
        false,
      );
      expect(
        await suite.repository.saveCheckpoint(executor, stale, '1', false),
      ).toBe(false);
    });
    expect(await jobRow(db, stale.id)).toEqual(before);
  }

  /** A claim as the previous version sends it: it raises `attempts` and knows no `releases`. */
  async function claimAsPreviousVersion(id: string): Promise<JobRow> {
    const [row] = await db.query<JobRow>(
      `UPDATE nest_jobs SET status = 'running', attempts = attempts + 1, started_at = now(),
         locked_until = now() + interval '1 minute'
       WHERE id = $1 AND status = 'pending' RETURNING *`,
      [id],
    );
    return row!;
  }

  /** An outcome as the previous version writes it: fenced by (id, attempts) alone. */
  async function completeAsPreviousVersion(
    id: string,
    attempt: number,
  ): Promise<number> {
    const rows = await db.query(
      `UPDATE nest_jobs SET status = 'completed', finished_at = now(), locked_until = NULL
       WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id`,
      [id, attempt],
    );
    return rows.length;
  }

  it('a claim returns the release count; a release takes the attempt back and raises it', async () => {
    const { id } = await insertJobRow(db, {
      job_type: 'fenced',
      queue: QUEUE,
      max_retries: 0,
    });
    const first = await claimOne();
    expect(first).toEqual({ id, attempt: 1, releases: 0 });
    expect(await suite.repository.heartbeat([first], LEASE_MS)).toEqual({
      renewed: new Set([attemptKey(first)]),
      cancelled: new Set(),
      busy: new Set(),
    });
    expect(
      await suite.repository.release([first], 'Worker is shutting down'),
    ).toBe(1);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      releases: 1,
      locked_until: null,
      last_error: 'Worker is shutting down',
    });

    // The same attempt number again, under a new fence.
    const second = await claimOne();
    expect(second).toEqual({ id, attempt: 1, releases: 1 });
    await expectEveryWriteRefused(first);
    expect(await suite.repository.complete([second])).toBe(1);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'completed',
      attempts: 1,
      releases: 1,
    });
  });

  it('a released attempt writes nothing while the job waits, nor after it was released again', async () => {
    const { id } = await insertJobRow(db, { job_type: 'fenced', queue: QUEUE });
    const first = await claimOne();
    await suite.repository.release([first], 'Worker is shutting down');
    await expectEveryWriteRefused(first);
    const second = await claimOne();
    await suite.repository.release([second], 'Worker is shutting down');
    const third = await claimOne();
    expect(third).toEqual({ id, attempt: 1, releases: 2 });
    await expectEveryWriteRefused(first);
    await expectEveryWriteRefused(second);
    expect(
      await suite.repository.fail([
        { ...third, error: 'boom', retryInMs: null },
      ]),
    ).toBe(1);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      releases: 2,
    });
  });

  it('a claim by the previous version after a release does not revive the released attempt', async () => {
    const { id } = await insertJobRow(db, { job_type: 'fenced', queue: QUEUE });
    const released = await claimOne();
    await suite.repository.release([released], 'Worker is shutting down');
    // attempts back at 1, as the released attempt had it: only `releases` tells them apart.
    expect(await claimAsPreviousVersion(id)).toMatchObject({
      attempts: 1,
      releases: 1,
    });
    await expectEveryWriteRefused(released);
    expect(await completeAsPreviousVersion(id, 1)).toBe(1);
  });

  it("the previous version's late outcome, fenced by attempts alone, misses a job released since", async () => {
    const { id } = await insertJobRow(db, { job_type: 'fenced', queue: QUEUE });
    await claimAsPreviousVersion(id);
    // Its lease expired and the job was rescued: the previous version's attempt 1 is stale.
    await updateJobRow(db, id, { locked_until: dbNow('-1 s') });
    expect(await suite.repository.recoverExpired(10)).toHaveLength(1);
    const current = await claimOne();
    expect(current).toEqual({ id, attempt: 2, releases: 0 });
    await suite.repository.release([current], 'Worker is shutting down');
    // Pending at attempts 1: the stale outcome matches no running attempt.
    expect(await completeAsPreviousVersion(id, 1)).toBe(0);
    const next = await claimOne();
    expect(next).toEqual({ id, attempt: 2, releases: 1 });
    expect(await completeAsPreviousVersion(id, 1)).toBe(0);
    expect((await jobRow(db, id))!.status).toBe('running');
  });

  it('a lease expiry still counts as an attempt, and fences the expired attempt out', async () => {
    const { id } = await insertJobRow(db, {
      job_type: 'fenced',
      queue: QUEUE,
      max_retries: 1,
    });
    const first = await claimOne();
    await updateJobRow(db, id, { locked_until: dbNow('-1 s') });
    expect(await suite.repository.recoverExpired(10)).toEqual([
      { id, jobType: 'fenced', status: 'pending', attempt: 1 },
    ]);
    const second = await claimOne();
    expect(second).toEqual({ id, attempt: 2, releases: 0 });
    await expectEveryWriteRefused(first);
    await updateJobRow(db, id, { locked_until: dbNow('-1 s') });
    expect(await suite.repository.recoverExpired(10)).toEqual([
      { id, jobType: 'fenced', status: 'failed', attempt: 2 },
    ]);
  });
});
