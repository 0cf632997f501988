import { beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  DatabaseTimeoutError,
  EnqueueFailedError,
  Job,
  JobsService,
} from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { jobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class Reports {
  @Job({ name: 'report.build' })
  async build(_payload: { n: number }) {}
}

const ENQUEUE_TIMEOUT_MS = 500;

/** Failure of an enqueue, or null if it went through. */
function failureOf(enqueue: Promise<unknown>): Promise<unknown> {
  return enqueue.then(
    () => null,
    (error: unknown) => error,
  );
}

/**
 * `enqueueTimeoutMs` against a live server (the partition itself, through a proxy, is
 * test/e2e/connections/partition.e2e-spec.ts): the bound covers the wait for a connection
 * and the insert, and a timed-out insert may still commit.
 */
describe('JobsService.enqueue: enqueueTimeoutMs', () => {
  const suite = useJobsSuite('enqueue_timeout', { clearJobsAfterEach: true });
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;

  beforeAll(async () => {
    app = await suite.app({
      providers: [Reports],
      poolSize: 1,
      jobs: {
        enqueueTimeoutMs: ENQUEUE_TIMEOUT_MS,
        worker: { enabled: false },
      },
    });
    jobs = app.get(JobsService);
  });

  it('fails when no connection of the pool comes free in time, and the pool goes on', async () => {
    // The pool's only connection, held by a transaction of the application.
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    let failure: unknown;
    try {
      failure = await failureOf(jobs.enqueue('report.build', { n: 1 }));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(failure).toBeInstanceOf(EnqueueFailedError);
    expect((failure as EnqueueFailedError).timedOut).toBe(true);
    expect((failure as Error).cause).toBeInstanceOf(DatabaseTimeoutError);
    expect((failure as Error).message).toContain(
      `did not answer within ${ENQUEUE_TIMEOUT_MS} ms`,
    );
    // The connection it waited for was given back when it came, not lost.
    const id = await jobs.enqueue('report.build', { n: 2 });
    expect(await jobRow(db, id)).toMatchObject({ status: 'pending' });
  });

  it('fails an insert that waits too long, and the job may still be written', async () => {
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    let failure: unknown;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE nest_jobs IN EXCLUSIVE MODE');
      failure = await failureOf(jobs.enqueue('report.build', { n: 3 }));
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    expect(failure).toBeInstanceOf(EnqueueFailedError);
    expect((failure as EnqueueFailedError).timedOut).toBe(true);
    expect((failure as Error).message).toContain(
      'may or may not have been written',
    );
    // The server had the insert: once the lock is gone it commits, with nobody to tell.
    await waitFor('the timed-out insert to commit', async () => {
      const [row] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM nest_jobs WHERE payload->>'n' = '3'",
      );
      return row!.n === 1;
    });
    // The pool goes on (that the timed-out connection is closed, not handed out again, is
    // shown where it would hang: the partition suite).
    const id = await jobs.enqueue('report.build', { n: 4 });
    expect(await jobRow(db, id)).toMatchObject({ status: 'pending' });
  });
});
