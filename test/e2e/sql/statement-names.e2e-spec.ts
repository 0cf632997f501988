import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  EnqueueFailedError,
  Job,
  JobsService,
  TransactionPoolerError,
  type JobsDatabaseOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { jobRow } from '../../support/jobs-table.js';

@Injectable()
class Noop {
  @Job({ name: 'names.noop', queue: 'names' })
  async run() {}
}

/** The name nest-jobs gives its single due-now insert on the default table. */
const INSERT_NAME = `nest_jobs_${createHash('sha1')
  .update('public.nest_jobs')
  .digest('hex')
  .slice(0, 8)}_insert_one_due_now`;

/**
 * What a transaction pooler does to a named statement, made on a direct connection: the
 * app's pool has one connection, and the test changes what is prepared on its server side
 * behind the driver's back, as another client sharing the server connection would.
 */
describe('named statements that collide (SQLSTATE 42P05 / 26000)', () => {
  const suite = useJobsSuite('statement_names', { clearJobsAfterEach: true });

  const start = (database: JobsDatabaseOptions) =>
    suite.app({
      providers: [Noop],
      poolSize: 1,
      jobs: { worker: { enabled: false }, database },
    });
  const enqueue = (app: SuiteApp) =>
    app.get(JobsService).enqueue('names.noop', {});
  const preparedOnPool = async (app: SuiteApp) =>
    Number(
      (
        await app
          .get(DataSource)
          .query('SELECT count(*) AS n FROM pg_prepared_statements')
      )[0].n,
    );
  /** The driver believes the insert is prepared; the server forgot it (26000 at Bind). */
  const forgetOnServer = async (app: SuiteApp) => {
    await enqueue(app);
    await app.get(DataSource).query('DEALLOCATE ALL');
  };
  /** The server has the name from "another client"; the driver never prepared it (42P05 at Parse). */
  const takenOnServer = (app: SuiteApp) =>
    app
      .get(DataSource)
      .query(`PREPARE "${INSERT_NAME}" AS SELECT 1 WHERE false`);
  const warnings = (app: SuiteApp) =>
    app.logger.messages('warn').filter((line) => line.includes('collided'));

  it("under 'auto' (the default), a 26000 sends the statement again unnamed, warns once, and names stay off", async () => {
    const app = await start({});
    // Straight to the server: start-up kept names on.
    expect(await preparedOnPool(app)).toBeGreaterThan(0);
    await forgetOnServer(app);
    const id = await enqueue(app);
    expect((await jobRow(suite.db, id))?.status).toBe('pending');
    await enqueue(app);
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0] ?? '').toContain('SQLSTATE 26000');
    expect(await preparedOnPool(app)).toBe(0);
  });

  it("under 'auto', a 42P05 is answered the same way", async () => {
    const app = await start({ preparedStatements: 'auto' });
    await takenOnServer(app);
    const id = await enqueue(app);
    expect((await jobRow(suite.db, id))?.status).toBe('pending');
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0] ?? '').toContain('SQLSTATE 42P05');
  });

  it('with preparedStatements: true, a collision is a TransactionPoolerError that says what to set', async () => {
    const app = await start({ preparedStatements: true });
    await forgetOnServer(app);
    const failure = await enqueue(app).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnqueueFailedError);
    const cause = (failure as EnqueueFailedError).cause;
    expect(cause).toBeInstanceOf(TransactionPoolerError);
    expect((cause as TransactionPoolerError).code).toBe('26000');
    expect((cause as Error).message).toMatch(
      /Transaction pooler detected.*database\.preparedStatements/,
    );
  });

  it('with preparedStatements: false, nothing is ever prepared on the server', async () => {
    const app = await start({ preparedStatements: false });
    await enqueue(app);
    await app.get(JobsService).enqueueMany('names.noop', [{}, {}]);
    expect(await preparedOnPool(app)).toBe(0);
  });
});
