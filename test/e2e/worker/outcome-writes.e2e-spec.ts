import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService } from 'nest-jobs';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

const Q = 'outcomes';

@Injectable()
class OutcomeHandlers {
  @Job({ name: 'outcome.poison', queue: Q, maxRetries: 0 })
  poison() {
    throw new Error('poison');
  }

  @Job({
    name: 'outcome.flaky',
    queue: Q,
    maxRetries: 3,
    retry: { type: 'fixed', baseMs: 10, jitter: 'none' },
  })
  flaky() {
    throw new Error('flaky');
  }

  @Job({ name: 'outcome.ok', queue: Q })
  ok() {
    return undefined;
  }
}

/**
 * The outcome writer against refusals it cannot see coming: a trigger refuses some updates
 * of the jobs table, for their data (SQLSTATE 22023, class 22: sent again, refused again)
 * or for a passing reason (40001: worth a retry).
 */
describe('worker: outcome writes PostgreSQL refuses', () => {
  const suite = useJobsSuite('worker_outcome_writes');
  const { db } = suite;

  const start = async () => {
    const app = await suite.app({
      providers: [OutcomeHandlers, EventLog],
      jobs: { worker: { pollIntervalMs: 20, concurrency: 10 } },
    });
    await db.query(`CREATE TABLE IF NOT EXISTS refuse (mode text)`);
    await db.query(`
      CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.last_error LIKE '%poison%' THEN
          RAISE EXCEPTION 'refused for its data' USING ERRCODE = '22023';
        END IF;
        IF NEW.status = 'pending' AND OLD.status = 'running'
           AND EXISTS (SELECT 1 FROM refuse WHERE mode = 'no-retries') THEN
          RAISE EXCEPTION 'no retries here' USING ERRCODE = '22023';
        END IF;
        IF NEW.status <> 'running' AND EXISTS (SELECT 1 FROM refuse WHERE mode = 'transient') THEN
          RAISE EXCEPTION 'refused for now' USING ERRCODE = '40001';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE OR REPLACE TRIGGER refuse_writes BEFORE UPDATE ON nest_jobs
      FOR EACH ROW EXECUTE FUNCTION refuse_writes()`);
    return app;
  };

  it('isolates a failure refused for its data: recorded with a fixed text, the rest of its batch written', async () => {
    const app = await start();
    // One insert, one claim: the six outcomes finish in one turn and share one write.
    const [poison, ...others] = await app.get(JobsService).enqueueMany([
      { name: 'outcome.poison', payload: {} },
      ...Array.from({ length: 5 }, () => ({
        name: 'outcome.ok',
        payload: {},
      })),
    ]);
    const row = await waitForStatus(db, poison!, 'failed');
    expect(row.last_error).toBe(
      'The error of this attempt could not be recorded: PostgreSQL refused its text',
    );
    expect(row.locked_until).toBeNull();
    for (const id of others)
      expect((await waitForStatus(db, id, 'completed')).attempts).toBe(1);
    // Later outcomes are not queued behind it.
    const later = await app.get(JobsService).enqueue(OutcomeHandlers, 'ok', {});
    await waitForStatus(db, later, 'completed');
    await app.close();
  });

  it('fails for good a retry PostgreSQL refuses to record, and says so in job.failed after job.retried', async () => {
    const app = await start();
    await db.query(`INSERT INTO refuse VALUES ('no-retries')`);
    const id = await app.get(JobsService).enqueue(OutcomeHandlers, 'flaky', {});
    const row = await waitForStatus(db, id, 'failed');
    expect(row.attempts).toBe(1);
    expect(row.last_error).toBe(
      'The error of this attempt could not be recorded: PostgreSQL refused its text',
    );
    const log = app.get(EventLog);
    await waitFor('job.failed of the job', () =>
      log.of('job.failed').some((event) => event.job.id === id),
    );
    const ofJob = log.entries.filter(
      (entry) =>
        (entry.event === 'job.retried' || entry.event === 'job.failed') &&
        (entry.payload as { job: { id: string } }).job.id === id,
    );
    expect(ofJob.map((entry) => entry.event)).toEqual([
      'job.retried',
      'job.failed',
    ]);
    const failed = log.of('job.failed').find((event) => event.job.id === id)!;
    expect(failed.reason).toBe('outcome-refused');
    expect((failed.error as Error).message).toBe('flaky');
    expect(failed.errorText).toBe(row.last_error);
    await db.query(`DELETE FROM refuse`);
    await app.close();
  });

  it('retries a write refused for a passing reason until it goes through', async () => {
    const app = await start();
    await db.query(`INSERT INTO refuse VALUES ('transient')`);
    const id = await app.get(JobsService).enqueue(OutcomeHandlers, 'ok', {});
    await waitFor('a refused outcome write', () =>
      app.logger
        .messages('warn')
        .some((line) => line.includes('refused for now')),
    );
    expect((await waitForStatus(db, id, 'running')).status).toBe('running');
    await db.query(`DELETE FROM refuse`);
    await waitForStatus(db, id, 'completed');
    await app.close();
  });
});
