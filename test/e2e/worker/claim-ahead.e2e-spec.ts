import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  Job,
  JobsQueueControl,
  JobsService,
  JobsWorkerStatus,
  type JobContext,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { Gate } from '../../support/gate.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRows } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Handlers that wait for the test to open the gate, counting themselves. */
@Injectable()
class GatedHandlers {
  running = 0;
  maxRunning = 0;
  readonly ran: string[] = [];

  constructor(@Inject(Gate) private readonly gate: Gate) {}

  @Job({ name: 'ahead.run', queue: 'ahead' })
  async run(_payload: Record<string, never>, ctx: JobContext) {
    this.ran.push(ctx.id);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate.opened;
    } finally {
      this.running -= 1;
    }
  }
}

/**
 * worker.claimAhead: a queue with a backlog is claimed beyond the free slots, so the next
 * jobs are in this process when a handler ends (a small concurrency is not bound by claim
 * round trips). Those jobs are held attempts: leased, never run beyond `concurrency`, and
 * returned to pending at once by a shutdown.
 */
describe('worker: claiming ahead of free slots', () => {
  const suite = useJobsSuite('worker_claim_ahead', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;

  async function start(gate: Gate, worker: Record<string, unknown>) {
    const app = await suite.app({
      providers: [GatedHandlers, { provide: Gate, useValue: gate }],
      jobs: { worker: { pollIntervalMs: 50, ...worker } },
    });
    return { app, handlers: app.get(GatedHandlers) };
  }

  const runningRows = async () =>
    (await jobRows(db, `status = 'running'`)).length;

  it('claims claimAhead jobs beyond its busy slots, starts them as slots free, and runs each job once', async () => {
    const gate = new Gate();
    const { app, handlers } = await start(gate, {
      concurrency: 2,
      batchSize: 2,
      claimAhead: 2,
    });
    const ids = await app.get(JobsService).enqueueMany(
      'ahead.run',
      Array.from({ length: 10 }, () => ({})),
    );
    await waitFor(
      '2 handlers at the gate and 2 jobs claimed ahead',
      async () =>
        handlers.running === 2 && (await runningRows()) === 4
          ? true
          : undefined,
    );
    // Claimed, leased, not started: concurrency still bounds the handlers.
    expect(handlers.ran).toHaveLength(2);
    gate.open();
    await waitFor(
      'every job completed',
      async () =>
        (await jobRows(db, `status <> 'completed'`)).length === 0
          ? true
          : undefined,
      { timeoutMs: 20_000 },
    );
    expect([...handlers.ran].sort()).toEqual([...ids].sort());
    expect(handlers.maxRunning).toBe(2);
    expect((await jobRows(db)).every((row) => row.attempts === 1)).toBe(true);
    await app.close();
  });

  it('a shutdown returns the jobs claimed ahead to pending at once, their attempt not counted', async () => {
    const gate = new Gate();
    const { app, handlers } = await start(gate, {
      concurrency: 1,
      batchSize: 3,
      claimAhead: 3,
      shutdownTimeoutMs: 20_000,
    });
    await app.get(JobsService).enqueueMany(
      'ahead.run',
      Array.from({ length: 6 }, () => ({})),
    );
    await waitFor('1 handler at the gate and 3 jobs claimed ahead', async () =>
      handlers.running === 1 && (await runningRows()) === 4 ? true : undefined,
    );
    const [running] = handlers.ran;
    const closed = app.close();
    // Released while the handler still holds its slot: not after the grace period.
    const released = await waitFor(
      'the jobs claimed ahead back to pending',
      async () => {
        const rows = await jobRows(db, `status = 'pending' AND releases = 1`);
        return rows.length === 3 ? rows : undefined;
      },
    );
    expect(handlers.running).toBe(1);
    expect(released.every((row) => row.attempts === 0)).toBe(true);
    expect(released.map((row) => row.id)).not.toContain(running);
    gate.open();
    await closed;
    expect(handlers.ran).toEqual([running]);
    expect(
      (await jobRows(db, `status = 'completed'`)).map((r) => r.id),
    ).toEqual([running]);
  });

  it('a claim held up by the database gets a second claim beside it when its queue is woken, without a backlog', async () => {
    const gate = new Gate();
    gate.open();
    const { app } = await start(gate, {
      concurrency: 20,
      batchSize: 5,
      connections: 3,
    });
    // Hold the table: the next poll's claim waits on the lock, and stays out longer than
    // CLAIM_TIMING.slowMs; the polls after it wake the queue again.
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`LOCK TABLE nest_jobs IN EXCLUSIVE MODE`);
      const claimsWaiting = await waitFor(
        'two claims waiting on the table lock',
        async () => {
          const [row] = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1
               AND query LIKE '/* nest-jobs:claim */%' AND wait_event_type = 'Lock'`,
            [`${app.applicationName} (worker)`],
          );
          return row!.n >= 2 ? row!.n : undefined;
        },
      );
      // connections - 1 claims at most: one connection stays for outcome writes.
      expect(claimsWaiting).toBe(2);
    } finally {
      await runner.commitTransaction();
      await runner.release();
    }
    await app.close();
  });

  /** A worker of 400 slots claiming 200 at most, whose queue holds 100 jobs it has not seen. */
  async function pausedWithBacklog(gate: Gate) {
    const { app, handlers } = await start(gate, {
      concurrency: 400,
      batchSize: 200,
    });
    const status = app.get(JobsWorkerStatus);
    expect(status.snapshot().claimSize).toBe(200);
    const control = app.get(JobsQueueControl);
    await control.pause('ahead');
    await waitFor('the worker to see the queue paused', () =>
      status.snapshot().pausedQueues.includes('ahead') ? true : undefined,
    );
    await app.get(JobsService).enqueueMany(
      'ahead.run',
      Array.from({ length: 100 }, () => ({})),
    );
    return { app, handlers, status, control };
  }

  // The worker sizes claims by the claim statement's own time on the server (issue 25,
  // point 6): a wait outside it is a cost of that claim, not of its rows, and cutting
  // claims for it only makes more claims wait.
  it('a claim held up by a lock before it ran does not cut the next claims', async () => {
    const gate = new Gate();
    gate.open();
    const { app, handlers, status, control } = await pausedWithBacklog(gate);
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`LOCK TABLE nest_jobs IN EXCLUSIVE MODE`);
      await control.resume('ahead');
      // Held for 300 ms at least: 3 ms a row as node sees it, where 25 ms of claim holds
      // 8 rows. The statement takes its lock when it is parsed, before its execution (and
      // the clock statementMs is read on) starts.
      await waitFor('a claim waiting on the lock for 300 ms', async () => {
        const [row] = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = $1
             AND query LIKE '/* nest-jobs:claim */%' AND wait_event_type = 'Lock'
             AND now() - query_start > interval '300 ms'`,
          [`${app.applicationName} (worker)`],
        );
        return row!.n >= 1 ? true : undefined;
      });
    } finally {
      await runner.commitTransaction();
      await runner.release();
    }
    await waitFor('the 100 jobs to run', () =>
      handlers.ran.length === 100 ? true : undefined,
    );
    expect(status.snapshot().claimSize).toBe(200);
  });

  it('a claim whose rows the server was slow to claim cuts the next claims, whatever batchSize says', async () => {
    const gate = new Gate();
    gate.open();
    const { handlers, status, control } = await pausedWithBacklog(gate);
    // Every row the claim takes costs the server 3 ms (a trigger on the claim's update):
    // 100 rows in 300 ms at least, where 25 ms of claim holds 8, so the size falls to its
    // floor.
    await db.query(
      `CREATE FUNCTION slow_claimed_row() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN PERFORM pg_sleep(0.003); RETURN NEW; END $$`,
    );
    await db.query(
      `CREATE TRIGGER slow_claimed_row BEFORE UPDATE ON nest_jobs FOR EACH ROW
       WHEN (OLD.status = 'pending' AND NEW.status = 'running')
       EXECUTE FUNCTION slow_claimed_row()`,
    );
    try {
      await control.resume('ahead');
      await waitFor('the 100 jobs to run', () =>
        handlers.ran.length === 100 ? true : undefined,
      );
    } finally {
      await db.query(`DROP TRIGGER slow_claimed_row ON nest_jobs`);
      await db.query(`DROP FUNCTION slow_claimed_row()`);
    }
    expect(status.snapshot().claimSize).toBe(50);
  });
});
