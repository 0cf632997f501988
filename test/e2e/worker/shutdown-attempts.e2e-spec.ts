import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  Job,
  JobsService,
  WorkerShutdownError,
  type JobContext,
} from 'nest-jobs';
import { aborted, Gate } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  jobRow,
  updateJobRow,
  waitForStatus,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** The runs of the job, in order (each one a handler call, whichever its attempt number). */
class Runs {
  readonly contexts: JobContext[] = [];
  /** Run n of a `late` job waits for gate n - 1. */
  readonly gates = [new Gate(), new Gate()];
  readonly settled: string[] = [];

  attempts(): number[] {
    return this.contexts.map((ctx) => ctx.attempt);
  }
}

/** `interruptedRuns` runs hang until a shutdown aborts them; the runs after them `end`. */
interface Script {
  interruptedRuns: number;
  end: 'complete' | 'fail';
}

@Injectable()
class ScriptedHandlers {
  constructor(@Inject(Runs) private readonly runs: Runs) {}

  @Job({
    name: 'attempts.scripted',
    queue: 'attempts',
    retry: { type: 'fixed', baseMs: 10 },
  })
  async scripted(script: Script, ctx: JobContext) {
    this.runs.contexts.push(ctx);
    if (this.runs.contexts.length <= script.interruptedRuns)
      throw await aborted(ctx.signal);
    if (script.end === 'fail')
      throw new Error(`run ${this.runs.contexts.length} failed`);
  }

  /** Run 1 ignores its signal and fails once let go; run 2 completes once let go. */
  @Job({ name: 'attempts.late', queue: 'attempts' })
  async late(_payload: object, ctx: JobContext) {
    const run = this.runs.contexts.push(ctx);
    await this.runs.gates[run - 1]!.opened;
    this.runs.settled.push(`run ${run}`);
    if (run === 1) throw new Error('the released attempt failed late');
  }
}

/**
 * Issue 18 point 6: a release at shutdown does not use up an attempt. The job runs the same
 * attempt number again, so `ctx.attempt` never exceeds `maxRetries + 1` for that reason; a
 * lease expiry still counts.
 */
describe('worker: a release at shutdown does not use up an attempt', () => {
  const suite = useJobsSuite('shutdown_attempts', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;

  const start = (runs: Runs) =>
    suite.app({
      providers: [
        EventLog,
        ScriptedHandlers,
        { provide: Runs, useValue: runs },
      ],
      jobs: {
        worker: {
          shutdownTimeoutMs: 100,
          pollIntervalMs: 50,
          leaseMs: 2_000,
          heartbeatIntervalMs: 300,
          // Sweep often: the lease-expiry test waits for a rescue.
          recoveryIntervalMs: 100,
        },
      },
    });

  /**
   * Enqueues a job with `maxRetries: 0` whose first run is interrupted, waits for that run
   * and shuts its app down under it (the release at shutdown).
   */
  async function releaseFirstRun(
    runs: Runs,
    end: 'complete' | 'fail',
  ): Promise<string> {
    const first = await start(runs);
    const id = await first
      .get(JobsService)
      .enqueue(
        ScriptedHandlers,
        'scripted',
        { interruptedRuns: 1, end },
        { maxRetries: 0 },
      );
    await waitFor('the first run', () =>
      runs.contexts.length === 1 ? true : undefined,
    );
    await first.close();
    return id;
  }

  /** Starts an app, waits for the next run of the job, and shuts the app down under it. */
  async function interruptOnce(runs: Runs, id: string): Promise<void> {
    const before = runs.contexts.length;
    const app = await start(runs);
    await waitFor('the job to run', () =>
      runs.contexts.length > before ? true : undefined,
    );
    const events = app.get(EventLog);
    await app.close();
    expect(events.of('job.released')).toEqual([
      expect.objectContaining({
        jobs: [expect.objectContaining({ id, attempt: 1 })],
      }),
    ]);
  }

  it('a job with maxRetries 0 released at shutdown runs again as attempt 1 and completes', async () => {
    const runs = new Runs();
    const id = await releaseFirstRun(runs, 'complete');
    expect(runs.contexts[0]!.signal.reason).toBeInstanceOf(WorkerShutdownError);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      releases: 1,
    });

    const next = await start(runs);
    const row = await waitForStatus(db, id, 'completed');
    expect(row).toMatchObject({ attempts: 1, releases: 1 });
    expect(runs.attempts()).toEqual([1, 1]);
    expect(next.get(EventLog).of('job.completed')).toEqual([
      expect.objectContaining({
        job: expect.objectContaining({ id, attempt: 1, maxRetries: 0 }),
      }),
    ]);
  });

  it('a job with maxRetries 0 released at shutdown still fails for good after its one real attempt', async () => {
    const runs = new Runs();
    const id = await releaseFirstRun(runs, 'fail');

    const next = await start(runs);
    const row = await waitForStatus(db, id, 'failed');
    expect(row).toMatchObject({
      attempts: 1,
      releases: 1,
      last_error: expect.stringContaining('run 2 failed'),
    });
    expect(runs.attempts()).toEqual([1, 1]);
    const events = next.get(EventLog);
    expect(events.of('job.retried')).toEqual([]);
    expect(events.of('job.failed')).toEqual([
      expect.objectContaining({
        job: expect.objectContaining({ id, attempt: 1 }),
      }),
    ]);
  });

  it('repeated shutdowns never push ctx.attempt above maxRetries + 1', async () => {
    const runs = new Runs();
    const first = await start(runs);
    const id = await first
      .get(JobsService)
      .enqueue(
        ScriptedHandlers,
        'scripted',
        { interruptedRuns: 3, end: 'fail' },
        { maxRetries: 1 },
      );
    await waitFor('the first run', () =>
      runs.contexts.length === 1 ? true : undefined,
    );
    await first.close();
    await interruptOnce(runs, id);
    await interruptOnce(runs, id);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      releases: 3,
    });

    // Both real attempts fail: the job fails for good after attempt 2 = maxRetries + 1.
    await start(runs);
    const row = await waitForStatus(db, id, 'failed');
    expect(row).toMatchObject({ attempts: 2, releases: 3 });
    expect(runs.attempts()).toEqual([1, 1, 1, 1, 2]);
  });

  it('the released attempt finishing late, after the job was claimed again, changes nothing', async () => {
    const runs = new Runs();
    const first = await start(runs);
    const id = await first
      .get(JobsService)
      .enqueue(ScriptedHandlers, 'late', {}, { maxRetries: 0 });
    await waitFor('the first run', () =>
      runs.contexts.length === 1 ? true : undefined,
    );
    const firstEvents = first.get(EventLog);
    await first.close();

    const next = await start(runs);
    await waitFor('the second run', () =>
      runs.contexts.length === 2 ? true : undefined,
    );
    // The released attempt fails now, while attempt 1 runs again under the new fence.
    runs.gates[0]!.open();
    await waitFor('the released attempt to settle', () =>
      runs.settled.length === 1 ? true : undefined,
    );
    expect(await jobRow(db, id)).toMatchObject({
      status: 'running',
      attempts: 1,
      releases: 1,
    });
    runs.gates[1]!.open();
    const row = await waitForStatus(db, id, 'completed');
    expect(row).toMatchObject({ attempts: 1, releases: 1 });
    expect(runs.attempts()).toEqual([1, 1]);
    for (const events of [firstEvents, next.get(EventLog)]) {
      expect(events.of('job.failed')).toEqual([]);
      expect(events.of('job.retried')).toEqual([]);
    }
  });

  it('a lease expiry still counts: after a release, an expired lease moves the job to attempt 2', async () => {
    const runs = new Runs();
    const first = await start(runs);
    const id = await first
      .get(JobsService)
      .enqueue(
        ScriptedHandlers,
        'scripted',
        { interruptedRuns: 1, end: 'complete' },
        { maxRetries: 1 },
      );
    await waitFor('the first run', () =>
      runs.contexts.length === 1 ? true : undefined,
    );
    await first.close();
    // As a worker that died after claiming the job again would leave it: attempt 1 claimed
    // (under the release's new fence), its lease over.
    await updateJobRow(db, id, {
      status: 'running',
      attempts: 1,
      started_at: dbNow('-3 s'),
      locked_until: dbNow('-1 s'),
    });

    const next = await start(runs);
    const row = await waitForStatus(db, id, 'completed');
    expect(row).toMatchObject({ attempts: 2, releases: 1 });
    expect(runs.attempts()).toEqual([1, 2]);
    expect(next.get(EventLog).of('job.rescued')).toEqual([
      expect.objectContaining({
        jobs: [expect.objectContaining({ id, attempt: 1, status: 'pending' })],
      }),
    ]);
  });
});
