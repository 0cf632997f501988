import { describe, expect, it } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import {
  connectionsOf,
  waitForListener,
  waitForQuietWorker,
} from '../../support/backends.js';
import { Gate } from '../../support/gate.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import {
  insertJobRow,
  jobRow,
  jobRows,
  waitForStatus,
} from '../../support/jobs-table.js';
import { type TestDatabase } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

class Runs {
  readonly ids: string[] = [];
  /** What `requestStore` held inside each 'wake.context' handler. */
  readonly stores: Array<string | undefined> = [];
  /** Holds every 'wake.hold' handler until opened. */
  readonly hold = new Gate();
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

  @Job({ name: 'wake.hold', queue: 'wake' })
  async holdSlot(_payload: object, ctx: JobContext) {
    await this.runs.hold.opened;
    this.runs.ids.push(ctx.id);
  }

  /** Runs without a trace in Runs: quiet()'s proof that the worker claims. */
  @Job({ name: 'wake.warmUp', queue: 'wake' })
  async warmUp() {}

  @Job({ name: 'wake.context', queue: 'wake' })
  async context(_payload: object, ctx: JobContext) {
    this.runs.stores.push(requestStore.getStore());
    this.runs.ids.push(ctx.id);
  }
}

/** A second queue of the same worker, for what a notification of the first one claims. */
@Injectable()
class SideQueueHandlers {
  constructor(@Inject(Runs) private readonly runs: Runs) {}

  @Job({ name: 'wake.side', queue: 'wake-side' })
  async side(_payload: object, ctx: JobContext) {
    this.runs.ids.push(ctx.id);
  }
}

/**
 * Far below the poll interval (and the recovery interval, whose sweeps also wake the
 * worker): a job that completes within it was claimed because of a NOTIFY.
 */
const WOKEN_WITHIN_MS = 10_000;

/**
 * A LISTEN of its own on the jobs channel, to see which notifications were sent.
 * `sentBefore()` sends a marker and returns what arrived before it: PostgreSQL delivers
 * notifications in commit order, so that is every NOTIFY committed before the call.
 */
async function channelWatcher(db: TestDatabase) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const received: string[] = [];
  client.on('notification', (message) => received.push(message.payload!));
  await client.query('LISTEN nest_jobs');
  let markers = 0;
  return {
    async sentBefore(): Promise<string[]> {
      const marker = `marker-${++markers}`;
      await client.query(`SELECT pg_notify('nest_jobs', $1)`, [marker]);
      await waitFor(`the ${marker} notification`, () =>
        received.includes(marker),
      );
      const before = received.splice(0, received.indexOf(marker) + 1);
      return before.slice(0, -1);
    },
    end: () => client.end(),
  };
}

describe('worker: wake-ups and reconnection', () => {
  const suite = useJobsSuite('wakeup');
  const { db } = suite;

  const start = (runs: Runs, worker: Record<string, unknown> = {}) =>
    suite.app({
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
    waitForStatus(db, id, 'completed', { timeoutMs: WOKEN_WITHIN_MS });

  /**
   * Once the LISTEN is in place the worker has nothing to do (the table holds no due job
   * and the start-up round is over or finds nothing): only a NOTIFY can wake it now.
   */
  const idle = (app: SuiteApp) => waitForListener(db, app);

  /**
   * Idle, and done with its start-up: it claims (a job of its own ran, so it has read
   * which queues are paused: until then it takes no local enqueue and a NOTIFY goes out),
   * and a local enqueue now finds no claim in flight. (idle() only knows that the LISTEN
   * is in place; the claim its connection triggers may still be on its way.)
   */
  const quiet = async (app: SuiteApp) => {
    const warmUp = await app
      .get(JobsService)
      .enqueue(WakeHandlers, 'warmUp', {});
    await completesWithoutPolling(warmUp);
    await waitForQuietWorker(db, app);
  };

  /** Enqueues `count` instant 'wake.ping' jobs in one call. */
  const enqueuePings = (jobs: JobsService, count: number) =>
    jobs.enqueueMany(
      WakeHandlers,
      'ping',
      Array.from({ length: count }, () => ({})),
    );

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
    const batch = await enqueuePings(jobs, 5);
    for (const batchId of batch) await completesWithoutPolling(batchId);
    expect(new Set(runs.ids)).toEqual(new Set([id, ...batch]));
    await app.close();
  });

  it('a NOTIFY claims from the queue it names, not from every queue of the worker', async () => {
    const runs = new Runs();
    const app = await suite.app({
      providers: [
        WakeHandlers,
        SideQueueHandlers,
        { provide: Runs, useValue: runs },
      ],
      jobs: {
        worker: { pollIntervalMs: 60_000, recoveryIntervalMs: 60_000 },
      },
    });
    await quiet(app);
    // A due job of the other queue that no NOTIFY announced.
    const { id: sideId } = await insertJobRow(db, {
      queue: 'wake-side',
      job_type: 'wake.side',
    });
    const id = await (await producer()).enqueue(WakeHandlers, 'ping', {});
    await completesWithoutPolling(id);
    await quiet(app);
    expect((await jobRow(db, sideId))?.status).toBe('pending');
    // Its own queue's notification wakes it.
    await db.query(`SELECT pg_notify('nest_jobs', 'wake-side')`);
    await completesWithoutPolling(sideId);
    expect(runs.ids).toEqual([id, sideId]);
    await app.close();
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
    await app.close();
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
    await app.close();
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
    await app.close();
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

  it("an enqueue in the worker's own process starts at once, without NOTIFY, outside the caller's async context", async () => {
    // A role that may not call pg_notify: a NOTIFY would fail, so only the in-process
    // wake-up (or a poll, a minute away) can start the job.
    await (await start(new Runs(), { enabled: false })).close(); // creates the table
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
      const app = await suite.app({
        url: url.toString(),
        providers: [WakeHandlers, { provide: Runs, useValue: runs }],
        jobs: {
          worker: { pollIntervalMs: 60_000, recoveryIntervalMs: 60_000 },
        },
      });
      await quiet(app);
      const jobs = app.get(JobsService);
      // quiet()'s own job may have tried a NOTIFY (see there).
      const warningsBefore = app.logger.messages('warn').length;
      const id = await requestStore.run('the-request', () =>
        jobs.enqueue('wake.context', {}),
      );
      await completesWithoutPolling(id);
      expect(runs.ids).toEqual([id]);
      // The handler ran in the worker's context, not in the request that enqueued.
      expect(runs.stores).toEqual([undefined]);
      // The idle worker took it, so no NOTIFY was even tried.
      expect(
        app.logger.messages('warn').slice(warningsBefore).join('\n'),
      ).not.toContain('Could not notify workers');
      await app.close();
    } finally {
      await db.query(`DROP OWNED BY ${role}`);
      await db.query(`DROP ROLE ${role}`);
    }
  });
  it('an idle worker takes the enqueues of its own process without sending a NOTIFY', async () => {
    const runs = new Runs();
    const app = await start(runs, { concurrency: 4 });
    await quiet(app);
    const watcher = await channelWatcher(db);
    try {
      const jobs = app.get(JobsService);
      const id = await jobs.enqueue(WakeHandlers, 'ping', {});
      await completesWithoutPolling(id);
      // Fewer than the free slots: a claim that comes back short saw every due job. (One
      // that comes back full may have left some, so a batch of exactly 4 would notify.)
      const batch = await enqueuePings(jobs, 3);
      for (const batchId of batch) await completesWithoutPolling(batchId);
      expect(await watcher.sentBefore()).toEqual([]);
      expect(new Set(runs.ids)).toEqual(new Set([id, ...batch]));
      // More due jobs than free slots: the worker cannot take them all, so it notifies.
      const many = await enqueuePings(jobs, 5);
      for (const manyId of many) await completesWithoutPolling(manyId);
      expect(await watcher.sentBefore()).toEqual(['wake']);
    } finally {
      await watcher.end();
    }
    await app.close();
  });

  it('concurrent enqueues of its own process, arriving while its claim is out, are taken by the next claim without NOTIFY', async () => {
    const runs = new Runs();
    const app = await start(runs, { concurrency: 100 });
    await quiet(app);
    const watcher = await channelWatcher(db);
    try {
      const jobs = app.get(JobsService);
      // Like request handlers: one job per call, all at once. The first committed goes out
      // in a claim at once; the others commit while it is out and wait for the next one.
      const ids = await Promise.all(
        Array.from({ length: 30 }, () =>
          jobs.enqueue(WakeHandlers, 'ping', {}),
        ),
      );
      for (const id of ids) await completesWithoutPolling(id);
      expect(await watcher.sentBefore()).toEqual([]);
      expect(new Set(runs.ids)).toEqual(new Set(ids));
    } finally {
      await watcher.end();
    }
    await app.close();
  });

  it('a worker without a free slot lets the NOTIFY wake another instance for its enqueue', async () => {
    const busyRuns = new Runs();
    const busy = await start(busyRuns, { concurrency: 1 });
    await quiet(busy);
    const jobs = busy.get(JobsService);
    const heldId = await jobs.enqueue(WakeHandlers, 'holdSlot', {});
    await waitForStatus(db, heldId, 'running');
    const otherRuns = new Runs();
    const other = await start(otherRuns);
    await quiet(other);
    const watcher = await channelWatcher(db);
    try {
      const id = await jobs.enqueue(WakeHandlers, 'ping', {});
      await completesWithoutPolling(id);
      expect(otherRuns.ids).toEqual([id]);
      expect(await watcher.sentBefore()).toEqual(['wake']);
    } finally {
      await watcher.end();
      busyRuns.hold.open();
      otherRuns.hold.open();
    }
    await busy.close();
    await other.close();
  });

  it('a local claim that finds older due jobs ahead of the enqueued one sends the NOTIFY', async () => {
    const runs = new Runs();
    const app = await start(runs, { concurrency: 2 });
    await quiet(app);
    const watcher = await channelWatcher(db);
    try {
      // Due jobs no NOTIFY announced (written by hand, as a job whose run_at just came).
      const older = [
        await insertJobRow(db, { queue: 'wake', job_type: 'wake.ping' }),
        await insertJobRow(db, { queue: 'wake', job_type: 'wake.ping' }),
      ];
      const id = await app.get(JobsService).enqueue(WakeHandlers, 'ping', {});
      // The claim for two takes the older jobs and comes back full: the new one may be
      // left, so other instances are told.
      for (const { id: olderId } of older)
        await completesWithoutPolling(olderId);
      await completesWithoutPolling(id);
      expect(await watcher.sentBefore()).toEqual(['wake']);
      expect(new Set(runs.ids)).toEqual(
        new Set([id, ...older.map((row) => row.id)]),
      );
    } finally {
      await watcher.end();
    }
    await app.close();
  });
});
