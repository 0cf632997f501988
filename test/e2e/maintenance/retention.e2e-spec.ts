import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { FatalJobError, Job, JobsService } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { dbNow, jobRows, updateJobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class RetentionHandlers {
  @Job({ name: 'retention.ok' })
  ok() {}

  @Job({ name: 'retention.fail' })
  fail() {
    throw new FatalJobError('fails for good');
  }
}

describe('worker: retention of finished jobs', () => {
  const suite = useJobsSuite('retention');
  const { db } = suite;

  it('deletes finished jobs past their retention and nothing else', async () => {
    const app = await suite.app({
      providers: [RetentionHandlers],
      jobs: {
        retention: { completedMs: 1, failedMs: false },
        worker: { cleanupIntervalMs: 50 },
      },
    });
    const jobs = app.get(JobsService);
    const ok = await jobs.enqueue('retention.ok', {});
    const failed = await jobs.enqueue('retention.fail', {});
    const later = await jobs.enqueue('retention.ok', {}, { delay: 3_600_000 });

    await waitFor(
      'the completed job to be deleted and the failed one to be final',
      async () => {
        const rows = await jobRows(db);
        return (
          rows.every((row) => row.id !== ok) &&
          rows.some((row) => row.id === failed && row.status === 'failed')
        );
      },
    );
    const rows = await jobRows(db);
    expect(rows.map((row) => [row.id, row.status]).sort()).toEqual(
      [
        [failed, 'failed'],
        [later, 'pending'],
      ].sort(),
    );
    // The janitor logs once its sweep (one statement per finished state) has returned: the
    // row can be gone before that.
    await waitFor('the janitor to report its sweep', () =>
      app.logger
        .messages('log')
        .includes('Deleted 1 finished job(s) past their retention'),
    );
  });

  it('with completedMs: 0 the completion itself deletes the row, and only completed rows', async () => {
    await db.query('DELETE FROM nest_jobs');
    const app = await suite.app({
      providers: [RetentionHandlers],
      jobs: {
        retention: { completedMs: 0 },
        // No sweep during the test: whatever disappears, the completion deleted.
        worker: { cleanupIntervalMs: 3_600_000 },
      },
    });
    const jobs = app.get(JobsService);
    const ok = await jobs.enqueueMany(
      'retention.ok',
      Array.from({ length: 5 }, () => ({})),
    );
    const failed = await jobs.enqueue('retention.fail', {});
    const later = await jobs.enqueue('retention.ok', {}, { delay: 3_600_000 });
    await waitFor(
      'the completed jobs to be gone and the failed one final',
      async () => {
        const rows = await jobRows(db);
        return (
          rows.every((row) => !ok.includes(row.id)) &&
          rows.some((row) => row.id === failed && row.status === 'failed')
        );
      },
    );
    expect(
      (await jobRows(db)).map((row) => [row.id, row.status]).sort(),
    ).toEqual(
      [
        [failed, 'failed'],
        [later, 'pending'],
      ].sort(),
    );
    expect(app.logger.messages('log').join('\n')).not.toContain(
      'past their retention',
    );
    await app.close();
  });

  it('keeps finished jobs younger than the retention', async () => {
    await db.query('DELETE FROM nest_jobs');
    const app = await suite.app({
      providers: [RetentionHandlers],
      jobs: {
        retention: { completedMs: 3_600_000 },
        worker: { cleanupIntervalMs: 20 },
      },
    });
    const jobs = app.get(JobsService);
    const [young, old] = [
      await jobs.enqueue('retention.ok', {}),
      await jobs.enqueue('retention.ok', {}),
    ];
    await waitFor(
      'both to complete',
      async () => (await jobRows(db, "status = 'completed'")).length === 2,
    );
    await updateJobRow(db, old, { finished_at: dbNow('-2 hours') });
    // The sweep that deletes the old row has looked at the young one too: it must stay.
    await waitFor(
      'the old row to be deleted',
      async () => (await jobRows(db, 'id = $1', [old])).length === 0,
    );
    expect((await jobRows(db)).map((row) => row.id)).toEqual([young]);
  });

  it('the sweep walks the finished_at index', async () => {
    await db.query('SET enable_seqscan = off'); // a tiny table: ask what the planner can use
    const [plan] = await db.query(
      `EXPLAIN (FORMAT JSON) SELECT id FROM nest_jobs WHERE status = 'completed'
       AND finished_at < now() - interval '1 day' ORDER BY finished_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    );
    await db.query('RESET enable_seqscan');
    expect(JSON.stringify(plan)).toContain('nest_jobs_finished_idx');
  });
});
