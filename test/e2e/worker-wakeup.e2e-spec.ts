import { describe, expect, it } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { jobRow, jobRows } from '../support/jobs-table.js';
import { type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import {
  connectionsOf,
  waitForListener,
  workerSuite,
  type WorkerApp,
} from '../support/worker-apps.js';

class Runs {
  readonly ids: string[] = [];
  /** What `requestStore` held inside each 'wake.context' handler. */
  readonly stores: Array<string | undefined> = [];
}

/** Stands for a request-scoped AsyncLocalStorage of the application (trace, CLS). */
const requestStore = new AsyncLocalStorage<string>();

@Injectable()
class WakeHandlers {
  constructor(@Inject(Runs) private readonly runs: Runs) {}

  @Job({ name: 'wake.flaky', queue: 'wake', retry: { baseMs: 200 } })
  async flaky(_payload: object, ctx: JobContext) {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    this.runs.ids.push(ctx.id);
  }

  @Job({ name: 'wake.ping', queue: 'wake' })
  async ping(payload: { ms?: number }, ctx: JobContext) {
    if (payload.ms)
      await new Promise((resolve) => setTimeout(resolve, payload.ms));
    this.runs.ids.push(ctx.id);
  }

  @Job({ name: 'wake.context', queue: 'wake' })
  async context(_payload: object, ctx: JobContext) {
    this.runs.stores.push(requestStore.getStore());
    this.runs.ids.push(ctx.id);
  }
}

/**
 * Far below the poll interval (and the recovery interval, whose sweeps also wake the
 * worker): a job that completes within it was claimed because of a NOTIFY.
 */
const WOKEN_WITHIN_MS = 10_000;

describe('worker: wake-ups and reconnection', () => {
  let db: TestDatabase;
  const apps = workerSuite(
    'worker_wakeup',
    'wwake',
    (created) => (db = created),
  );

  const start = (runs: Runs, worker: Record<string, unknown> = {}) =>
    apps.start({
      providers: [WakeHandlers, { provide: Runs, useValue: runs }],
      jobs: {
        worker: {
          pollIntervalMs: 60_000,
          recoveryIntervalMs: 60_000,
          ...worker,
        },
      },
    });

  const completesWithoutPolling = (id: string) =>
    waitFor(
      `job ${id} to complete without a poll`,
      async () => (await jobRow(db, id))?.status === 'completed',
      { timeoutMs: WOKEN_WITHIN_MS },
    );

  /**
   * Once the LISTEN is in place the worker has nothing to do (the table holds no due job
   * and the start-up round is over or finds nothing): only a NOTIFY can wake it now.
   */
  const idle = (app: WorkerApp) => waitForListener(db, app);

  /**
   * An enqueue-only app: its enqueues reach the worker only through NOTIFY (an enqueue in
   * the worker's own process wakes it directly).
   */
  const producer = async () =>
    (await start(new Runs(), { enabled: false })).get(JobsService);

  it('an idle worker is woken by the NOTIFY of a pooled enqueue', async () => {
    const runs = new Runs();
    const app = await start(runs);
    await idle(app);
    const jobs = await producer();
    const id = await jobs.enqueue(WakeHandlers, 'ping', {});
    await completesWithoutPolling(id);
    // Again, once idle after a run, and for a batch.
    const batch = await jobs.enqueueMany(
      WakeHandlers,
      'ping',
      Array.from({ length: 5 }, () => ({})),
    );
    for (const batchId of batch) await completesWithoutPolling(batchId);
    expect(new Set(runs.ids)).toEqual(new Set([id, ...batch]));
    await apps.close(app);
  });

  it('a transactional enqueue wakes the worker when the transaction commits', async () => {
    const runs = new Runs();
    const app = await start(runs);
    await idle(app);
    const jobs = app.get(JobsService);
    const id = await app
      .get(DataSource)
      .transaction((manager) =>
        jobs.enqueue(WakeHandlers, 'ping', {}, { manager }),
      );
    await completesWithoutPolling(id);
    expect(runs.ids).toEqual([id]);
    await apps.close(app);
  });

  it('a worker whose LISTEN connection was killed reconnects and is woken again', async () => {
    const runs = new Runs();
    const app = await start(runs);
    const pid = await idle(app);
    const [{ terminated }] = await db.query<{ terminated: boolean }>(
      'SELECT pg_terminate_backend($1) AS terminated',
      [pid],
    );
    expect(terminated).toBe(true);
    const newPid = await waitForListener(db, app, { notPid: pid });
    expect(newPid).not.toBe(pid);

    const id = await (await producer()).enqueue(WakeHandlers, 'ping', {});
    await completesWithoutPolling(id);
    expect(runs.ids).toEqual([id]);
    expect(app.logger.messages('warn').join('\n')).toContain(
      'LISTEN connection lost',
    );
    expect(app.logger.messages('log')).toContain(
      'LISTEN connection re-established',
    );
    await apps.close(app);
  });

  it('survives the loss of every connection mid-run: running jobs complete, the app keeps working', async () => {
    const runs = new Runs();
    const app = await start(runs, {
      concurrency: 5,
      pollIntervalMs: 100,
      recoveryIntervalMs: 500,
      leaseMs: 2_000,
      heartbeatIntervalMs: 300,
    });
    const pid = await idle(app);
    const ids = await app.get(JobsService).enqueueMany(
      WakeHandlers,
      'ping',
      Array.from({ length: 20 }, () => ({ ms: 150 })),
    );
    // Lock some running rows from outside, so the worker's completion (and heartbeat) of
    // them is a statement in flight, blocked, when its connection dies.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await waitFor('jobs to be running', async () => {
        const rows = await jobRows(db, `status = 'running'`);
        return rows.length >= 3 ? true : undefined;
      });
      await locker.query('BEGIN');
      const { rows: locked } = await locker.query(
        `SELECT id FROM nest_jobs WHERE status = 'running' FOR UPDATE`,
      );
      expect(locked.length).toBeGreaterThan(0);
      await waitFor('a completion to wait for the locks', async () => {
        const [blocked] = await db.query(
          `SELECT pid FROM pg_stat_activity
           WHERE application_name = $1 || ' (worker)' AND wait_event_type = 'Lock'
             AND query LIKE '%status = ''completed''%'`,
          [app.applicationName],
        );
        return blocked !== undefined;
      });
      const killed = await db.query<{ pid: number }>(
        `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database()
           AND application_name IN ($1, $1 || ' (worker)', $1 || ' (listener)')`,
        [app.applicationName],
      );
      expect(killed.length).toBeGreaterThanOrEqual(2);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }

    await waitFor(
      'every job to complete',
      async () => {
        const rows = await jobRows(db, `status <> 'completed'`);
        return rows.length === 0 ? true : undefined;
      },
      { timeoutMs: 20_000 },
    );
    // At least once (a claim whose reply was lost is rescued when its lease expires).
    expect(new Set(runs.ids)).toEqual(new Set(ids));
    expect(await jobRows(db, `status = 'failed'`)).toEqual([]);
    // The completions that were in flight were written again, not dropped.
    expect(app.logger.messages('warn').join('\n')).toMatch(
      /Could not write \d+ job outcome\(s\), retrying/,
    );

    // Still alive and listening: a new job is woken by NOTIFY on the new connection.
    await waitForListener(db, app, { notPid: pid });
    const id = await (await producer()).enqueue(WakeHandlers, 'ping', {});
    await completesWithoutPolling(id);
    expect(
      (await connectionsOf(db, app.applicationName)).length,
    ).toBeGreaterThan(0);
    await apps.close(app);
  });
  it('runs a retry when it is due, not at the next poll', async () => {
    const runs = new Runs();
    const app = await start(runs);
    await idle(app);
    const id = await app.get(JobsService).enqueue('wake.flaky', {});
    await completesWithoutPolling(id);
    const row = await jobRow(db, id);
    expect(row).toMatchObject({
      attempts: 2,
      last_error: expect.stringContaining('first attempt fails'),
    });
    expect(runs.ids).toEqual([id]);
  });

  it("an enqueue in the worker's own process wakes it at once, without NOTIFY, outside the caller's async context", async () => {
    // A role that may not call pg_notify: the NOTIFY fails, so only the in-process wake-up
    // (or a poll, a minute away) can start the job.
    await apps.close(await start(new Runs(), { enabled: false })); // creates the table
    const role = `nest_jobs_no_notify_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await db.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
      );
      await db.query(
        'REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC',
      );
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const runs = new Runs();
      const app = await apps.start({
        url: url.toString(),
        providers: [WakeHandlers, { provide: Runs, useValue: runs }],
        jobs: {
          worker: { pollIntervalMs: 60_000, recoveryIntervalMs: 60_000 },
        },
      });
      await idle(app);
      const jobs = app.get(JobsService);
      const id = await requestStore.run('the-request', () =>
        jobs.enqueue('wake.context', {}),
      );
      await completesWithoutPolling(id);
      expect(runs.ids).toEqual([id]);
      // The handler ran in the worker's context, not in the request that enqueued.
      expect(runs.stores).toEqual([undefined]);
      await waitFor('the failed NOTIFY to be reported', async () =>
        app.logger
          .messages('warn')
          .some((line) => line.includes('Could not notify workers')),
      );
      await apps.close(app);
    } finally {
      await db.query(`DROP OWNED BY ${role}`);
      await db.query(`DROP ROLE ${role}`);
    }
  });
});
