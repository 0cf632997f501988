import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidJobsOptionError,
  Job,
  JobsQueueControl,
  JobsService,
  JobsWorkerStatus,
  type JobContext,
  type JobsDatabaseOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { EventLog } from '../../support/event-log.js';
import { Gate } from '../../support/gate.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { jobRows, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

const INSTANCE = Symbol('instance name');
const POLL_MS = 200;

/** Which instance ran which job; jobs named `gated` wait for the gate. */
class Runs {
  readonly ran: Array<{ id: string; by: string }> = [];
  gate = new Gate();
}

@Injectable()
class QueueHandlers {
  constructor(
    @Inject(Runs) private readonly runs: Runs,
    @Inject(INSTANCE) private readonly instance: string,
  ) {}

  @Job({ name: 'mail.send', queue: 'mail' })
  async send(payload: { gated?: boolean }, ctx: JobContext) {
    this.runs.ran.push({ id: ctx.id, by: this.instance });
    if (payload.gated) await this.runs.gate.opened;
  }

  @Job({ name: 'report.build', queue: 'reports' })
  build(_payload: Record<string, never>, ctx: JobContext) {
    this.runs.ran.push({ id: ctx.id, by: this.instance });
  }
}

describe('queues: pause and resume across instances', () => {
  const suite = useJobsSuite('queues_pause', { clearJobsAfterEach: true });
  const { db } = suite;

  /** An instance with its own worker (its own connections and LISTEN, or polling only). */
  const instance = (
    runs: Runs,
    name: string,
    wakeUps: JobsDatabaseOptions['wakeUps'] = 'listen',
  ) =>
    suite.app({
      providers: [
        QueueHandlers,
        EventLog,
        { provide: Runs, useValue: runs },
        { provide: INSTANCE, useValue: name },
      ],
      jobs: {
        worker: { pollIntervalMs: POLL_MS },
        database: { wakeUps },
      },
    });

  const seesPaused = (app: SuiteApp, queue: string, paused = true) =>
    waitFor(
      `the worker to see ${queue} ${paused ? 'paused' : 'resumed'}`,
      () =>
        app.get(JobsWorkerStatus).snapshot().pausedQueues.includes(queue) ===
        paused
          ? true
          : undefined,
    );

  /**
   * Absence of claims cannot be awaited: a job of an unpaused queue inserted without NOTIFY
   * (so claimed by a poll) completes, then every worker polls three more times (each poll
   * wakes every queue it works).
   */
  const afterSeveralPolls = async () => {
    const [witness] = await db.query<{ id: string }>(
      `INSERT INTO nest_jobs (job_type, queue) VALUES ('report.build', 'reports') RETURNING id`,
    );
    await waitForStatus(db, witness!.id, 'completed');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
  };

  it('a pause stops every instance claiming the queue, running jobs finish, enqueues still work; resume runs the waiting jobs', async () => {
    const runs = new Runs();
    const a = await instance(runs, 'a');
    const b = await instance(runs, 'b');
    const control = a.get(JobsQueueControl);

    const runningId = await a
      .get(JobsService)
      .enqueue('mail.send', { gated: true });
    await waitForStatus(db, runningId, 'running');

    expect(await control.pause('mail')).toBe(true);
    expect(await control.pause('mail')).toBe(false);
    await seesPaused(a, 'mail');
    await seesPaused(b, 'mail');
    expect(a.get(EventLog).of('queue.paused')).toEqual([
      { queue: 'mail', transactional: false },
    ]);

    const waiting = [
      await a.get(JobsService).enqueue('mail.send', {}),
      await b.get(JobsService).enqueue('mail.send', {}),
    ];
    await afterSeveralPolls();
    for (const id of waiting) await waitForStatus(db, id, 'pending');

    // The job that was running when the queue was paused finishes.
    runs.gate.open();
    await waitForStatus(db, runningId, 'completed');
    await afterSeveralPolls();
    for (const id of waiting) await waitForStatus(db, id, 'pending');
    expect((await control.paused()).map((paused) => paused.queue)).toEqual([
      'mail',
    ]);

    expect(await b.get(JobsQueueControl).resume('mail')).toBe(true);
    expect(await control.resume('mail')).toBe(false);
    for (const id of waiting) await waitForStatus(db, id, 'completed');
    await seesPaused(a, 'mail', false);
    expect(b.get(EventLog).of('queue.resumed')).toEqual([
      { queue: 'mail', transactional: false },
    ]);
    expect(await control.paused()).toEqual([]);
  });

  it('holds without LISTEN: polling instances learn the pause and the resume within a poll interval', async () => {
    const runs = new Runs();
    const a = await instance(runs, 'a', 'poll');
    const b = await instance(runs, 'b', 'poll');
    await a.get(JobsQueueControl).pause('mail');
    await seesPaused(a, 'mail');
    await seesPaused(b, 'mail');
    const id = await b.get(JobsService).enqueue('mail.send', {});
    await afterSeveralPolls();
    await waitForStatus(db, id, 'pending');
    await a.get(JobsQueueControl).resume('mail');
    await waitForStatus(db, id, 'completed');
  });

  it('an instance started while a queue is paused never claims from it', async () => {
    const runs = new Runs();
    const a = await instance(runs, 'a');
    await a.get(JobsQueueControl).pause('mail');
    const id = await a.get(JobsService).enqueue('mail.send', {});
    await a.close();
    const b = await instance(runs, 'b');
    await seesPaused(b, 'mail');
    await afterSeveralPolls();
    await waitForStatus(db, id, 'pending');
    expect(runs.ran.filter((run) => run.id === id)).toEqual([]);
    await b.get(JobsQueueControl).resume('mail');
    await waitForStatus(db, id, 'completed');
  });

  it("pauses inside the caller's transaction: a rollback leaves the queue running", async () => {
    const runs = new Runs();
    const a = await instance(runs, 'a');
    const control = a.get(JobsQueueControl);
    await expect(
      a.get(DataSource).transaction(async (manager) => {
        expect(await control.pause('mail', { manager })).toBe(true);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await control.paused()).toEqual([]);
    const id = await a.get(JobsService).enqueue('mail.send', {});
    await waitForStatus(db, id, 'completed');

    await a.get(DataSource).transaction(async (manager) => {
      await control.pause('mail', { manager });
    });
    await seesPaused(a, 'mail');
    expect(a.get(EventLog).of('queue.paused')).toEqual([
      { queue: 'mail', transactional: true },
      { queue: 'mail', transactional: true },
    ]);
    await control.resume('mail');
  });

  it('refuses a bad queue name or options with a typed error, before any SQL', async () => {
    const runs = new Runs();
    const a = await instance(runs, 'a');
    const control = a.get(JobsQueueControl);
    for (const queue of ['', ' mail', 'a\u0000b', 'x'.repeat(256), 42])
      await expect(control.pause(queue as string)).rejects.toThrow(
        InvalidJobsOptionError,
      );
    await expect(
      control.resume('mail', { manger: 1 } as never),
    ).rejects.toThrow('Invalid nest-jobs option "options.manger"');
    expect(await jobRows(db)).toEqual([]);
    expect(await control.paused()).toEqual([]);
  });
});
