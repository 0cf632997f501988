import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  Job,
  JobsService,
  JobsWorker,
  WorkerShutdownError,
  type JobContext,
} from 'nest-jobs';
import { connectionsOf } from '../../support/backends.js';
import { aborted, Gate } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRow, jobRows, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** What the handlers of one test did. */
class Journal {
  readonly started: JobContext[] = [];
  readonly finished: string[] = [];
  readonly abortReasons = new Map<string, unknown>();
  readonly followUps: string[] = [];
  /** Opened by the test; `drain` handlers wait for it. */
  readonly release = new Gate();

  /** Records a run of `ctx`'s job; returns which run of that job it is (1 for the first). */
  run(ctx: JobContext): number {
    this.started.push(ctx);
    return this.started.filter((started) => started.id === ctx.id).length;
  }
}

@Injectable()
class ShutdownHandlers {
  constructor(
    @Inject(Journal) private readonly journal: Journal,
    private readonly jobs: JobsService,
  ) {}

  /** Runs until the test opens the gate, then a little longer. */
  @Job({ name: 'shutdown.drain', queue: 'shutdown' })
  async drain(_payload: object, ctx: JobContext) {
    this.journal.started.push(ctx);
    await this.journal.release.opened;
    await new Promise((resolve) => setTimeout(resolve, 500));
    this.journal.finished.push(ctx.id);
  }

  /** The first run never finishes: it waits for its signal and then throws its reason. */
  @Job({ name: 'shutdown.stuck', queue: 'shutdown' })
  async stuck(_payload: object, ctx: JobContext) {
    if (this.journal.run(ctx) > 1) {
      this.journal.finished.push(ctx.id);
      return;
    }
    const reason = await aborted(ctx.signal);
    this.journal.abortReasons.set(ctx.id, reason);
    throw reason;
  }

  /** The first run never settles and ignores its signal. */
  @Job({ name: 'shutdown.deaf', queue: 'shutdown' })
  deaf(_payload: object, ctx: JobContext) {
    const run = this.journal.run(ctx);
    void aborted(ctx.signal).then((reason) =>
      this.journal.abortReasons.set(ctx.id, reason),
    );
    if (run > 1) {
      this.journal.finished.push(ctx.id);
      return;
    }
    return new Promise(() => undefined);
  }

  /** Enqueues a follow-up once the test lets it go on (i.e. while the worker drains). */
  @Job({ name: 'shutdown.chain', queue: 'shutdown' })
  async chain(payload: { step: number }, ctx: JobContext) {
    this.journal.started.push(ctx);
    await this.journal.release.opened;
    const id = await this.jobs.enqueue(ShutdownHandlers, 'followUp', {
      after: payload.step,
    });
    this.journal.followUps.push(id);
    this.journal.finished.push(ctx.id);
  }

  @Job({ name: 'shutdown.followUp', queue: 'follow-ups' })
  followUp(_payload: { after: number }, ctx: JobContext) {
    this.journal.started.push(ctx);
    this.journal.finished.push(ctx.id);
  }
}

describe('worker: shutdown', () => {
  const suite = useJobsSuite('worker_shutdown', { clearJobsAfterEach: true });
  const { db } = suite;

  const start = (
    journal: Journal,
    shutdownTimeoutMs: number,
    queues?: string[],
  ) =>
    suite.app({
      providers: [
        EventLog,
        ShutdownHandlers,
        { provide: Journal, useValue: journal },
      ],
      jobs: {
        worker: {
          ...(queues ? { queues } : {}),
          shutdownTimeoutMs,
          pollIntervalMs: 50,
          leaseMs: 2_000,
          heartbeatIntervalMs: 300,
        },
      },
    });

  const started = (journal: Journal, count = 1) =>
    waitFor(`${count} handler(s) to start`, () =>
      journal.started.length >= count ? true : undefined,
    );

  it('close() waits for a running job to finish and writes its completion', async () => {
    const journal = new Journal();
    const app = await start(journal, 5_000);
    const id = await app
      .get(JobsService)
      .enqueue(ShutdownHandlers, 'drain', {});
    await started(journal);
    journal.release.open();
    // The handler still has about 500 ms to go.
    await app.close();
    expect(journal.finished).toEqual([id]);
    expect((await jobRow(db, id))!).toMatchObject({
      status: 'completed',
      attempts: 1,
      locked_until: null,
      last_error: null,
    });
  });

  it('after shutdownTimeoutMs, aborts the job with WorkerShutdownError and returns it to pending for another instance', async () => {
    const journal = new Journal();
    const app = await start(journal, 300);
    const jobs = app.get(JobsService);
    const stuck = await jobs.enqueue(ShutdownHandlers, 'stuck', {});
    const deaf = await jobs.enqueue(ShutdownHandlers, 'deaf', {});
    await started(journal, 2);

    const events = app.get(EventLog);
    await app.close();
    expect(journal.abortReasons.get(stuck)).toBeInstanceOf(WorkerShutdownError);
    // A handler that ignores its signal is still told, and its job still released.
    expect(journal.abortReasons.get(deaf)).toBeInstanceOf(WorkerShutdownError);
    expect(journal.finished).toEqual([]);
    for (const id of [stuck, deaf]) {
      const row = (await jobRow(db, id))!;
      // The interrupted attempt does not count: the next run is attempt 1 again.
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 0,
        releases: 1,
        locked_until: null,
        finished_at: null,
      });
      expect(row.last_error).toContain('Worker is shutting down');
    }
    const [released, ...more] = events.of('job.released');
    expect(more).toEqual([]);
    expect(released!.jobs.map((job) => job.id).sort()).toEqual(
      [stuck, deaf].sort(),
    );

    const next = await start(journal, 300);
    await waitFor('the released jobs to complete elsewhere', async () => {
      const rows = await jobRows(db, `status = 'completed'`);
      return rows.length === 2 ? true : undefined;
    });
    expect(new Set(journal.finished)).toEqual(new Set([stuck, deaf]));
    expect(journal.started.map((ctx) => ctx.attempt)).toEqual([1, 1, 1, 1]);
    expect((await jobRow(db, stuck))!).toMatchObject({
      attempts: 1,
      releases: 1,
    });
    await next.close();
  });

  it('a stopped worker keeps no timer alive for a handler that ignores its signal: the process exits', async () => {
    const applicationName = 'wstop-child';
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(
          new URL('../fixtures/worker-exit-after-close.mjs', import.meta.url),
        ),
        db.url,
        applicationName,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      await waitFor('the child to close its app', () =>
        output.includes('closed') ? true : undefined,
      );
      // Closing is over: from here only a leftover (ref'd) timer could keep it running.
      const code = await Promise.race([
        exited,
        new Promise<'still running'>((resolve) =>
          setTimeout(() => resolve('still running'), 5_000).unref(),
        ),
      ]);
      expect({ code, output }).toEqual({ code: 0, output: 'closed\n' });
    } finally {
      child.kill('SIGKILL');
    }
    await waitFor(
      'no backend of the child',
      async () => (await connectionsOf(db, applicationName)).length === 0,
    );
  });

  it('handlers may enqueue follow-up jobs while the worker drains', async () => {
    const journal = new Journal();
    // Works only the parent's queue: a claim round already in flight when the drain begins
    // may legitimately return (and run) a job, and the follow-up must be left for later.
    const app = await start(journal, 5_000, ['shutdown']);
    const first = await app
      .get(JobsService)
      .enqueue(
        ShutdownHandlers,
        'chain',
        { step: 1 },
        { traceId: 'trace-chain' },
      );
    await started(journal);
    // stop() is what close() calls; called first, the drain has surely begun when the gate opens.
    const draining = app.get(JobsWorker).stop();
    journal.release.open();
    await draining;
    await app.close();

    expect(journal.finished).toEqual([first]);
    expect((await jobRow(db, first))!.status).toBe('completed');
    expect(journal.followUps).toHaveLength(1);
    const followUp = (await jobRow(db, journal.followUps[0]!))!;
    // Written, with the trace of its parent, and left for a running worker.
    expect(followUp).toMatchObject({
      status: 'pending',
      queue: 'follow-ups',
      job_type: 'shutdown.followUp',
      payload: { after: 1 },
      attempts: 0,
      trace_id: 'trace-chain',
    });

    const next = await start(journal, 5_000);
    await waitForStatus(db, journal.followUps[0]!, 'completed');
    await next.close();
  });
});
