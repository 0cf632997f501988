import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  currentTraceId,
  Job,
  JobsService,
  JobsWorker,
  type JobContext,
} from 'nest-jobs';
import { connectionsOf } from '../../support/backends.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  insertJobRow,
  jobRow,
  waitForStatus,
} from '../../support/jobs-table.js';

/** What the handlers saw, shared with the test through DI. */
class Seen {
  readonly calls: Array<{
    job: string;
    payload: unknown;
    ctx: JobContext;
    traceInScope: string | undefined;
    abortedAtStart: boolean;
  }> = [];
}

@Injectable()
class RunHandlers {
  constructor(@Inject(Seen) private readonly seen: Seen) {}

  @Job({ name: 'run.greet', queue: 'run', maxRetries: 5 })
  async greet(payload: { who: string }, ctx: JobContext) {
    this.record('run.greet', payload, ctx);
  }

  @Job({
    name: 'run.checked',
    queue: 'run',
    validate: (payload) => {
      if (typeof (payload as { n?: unknown })?.n !== 'number')
        throw new Error('n must be a number');
    },
  })
  checked(payload: { n: number }, ctx: JobContext) {
    this.record('run.checked', payload, ctx);
  }

  private record(job: string, payload: unknown, ctx: JobContext) {
    this.seen.calls.push({
      job,
      payload,
      ctx,
      traceInScope: currentTraceId(),
      abortedAtStart: ctx.signal.aborted,
    });
  }
}

/** Handles a queue of its own, so an instance can be told apart by what it runs. */
@Injectable()
class OtherHandlers {
  constructor(@Inject(Seen) private readonly seen: Seen) {}

  @Job({ name: 'other.ping', queue: 'other' })
  ping(payload: unknown, ctx: JobContext) {
    this.seen.calls.push({
      job: 'other.ping',
      payload,
      ctx,
      traceInScope: currentTraceId(),
      abortedAtStart: ctx.signal.aborted,
    });
  }
}

describe('worker: running jobs', () => {
  const suite = useJobsSuite('worker_run');
  const { db } = suite;

  const start = (seen: Seen, extra: { pollIntervalMs?: number } = {}) =>
    suite.app({
      providers: [EventLog, RunHandlers, { provide: Seen, useValue: seen }],
      jobs: { worker: { pollIntervalMs: extra.pollIntervalMs ?? 50 } },
    });

  it('completes a job once and gives the handler its payload and context', async () => {
    const seen = new Seen();
    const app = await start(seen);
    const id = await app
      .get(JobsService)
      .enqueue(
        RunHandlers,
        'greet',
        { who: 'ada' },
        { traceId: 'trace-run-1' },
      );

    const row = await waitForStatus(db, id, 'completed');
    expect(row).toMatchObject({
      status: 'completed',
      attempts: 1,
      locked_until: null,
      last_error: null,
      trace_id: 'trace-run-1',
    });
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.started_at).toBeInstanceOf(Date);
    expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(
      row.started_at!.getTime(),
    );

    expect(seen.calls).toHaveLength(1);
    const [call] = seen.calls;
    expect(call!.job).toBe('run.greet');
    expect(call!.payload).toEqual({ who: 'ada' });
    expect(call!.ctx).toMatchObject({
      id,
      name: 'run.greet',
      queue: 'run',
      attempt: 1,
      maxRetries: 5,
      traceId: 'trace-run-1',
    });
    expect(call!.ctx.createdAt).toEqual(row.created_at);
    expect(call!.abortedAtStart).toBe(false);
    // The job's trace id is the current one inside the handler, so follow-ups inherit it.
    expect(call!.traceInScope).toBe('trace-run-1');
    await app.close();
  });

  it('fails a row with an unknown job name for good and keeps working', async () => {
    const seen = new Seen();
    const app = await start(seen);
    const { id: unknownId } = await insertJobRow(db, {
      queue: 'run',
      job_type: 'run.noSuchJob',
    });
    const failed = await waitForStatus(db, unknownId, 'failed');
    expect(failed.attempts).toBe(1);
    expect(failed.finished_at).toBeInstanceOf(Date);
    expect(failed.locked_until).toBeNull();
    expect(failed.last_error).toContain('NoHandlerError');
    expect(failed.last_error).toContain('"run.noSuchJob"');

    // The worker is still alive and claiming.
    const id = await app
      .get(JobsService)
      .enqueue(RunHandlers, 'greet', { who: 'after' });
    await waitForStatus(db, id, 'completed');
    expect(seen.calls.map((call) => call.payload)).toEqual([{ who: 'after' }]);
    expect(app.get(EventLog).of('job.failed')).toContainEqual(
      expect.objectContaining({
        job: expect.objectContaining({ id: unknownId, name: 'run.noSuchJob' }),
        reason: 'no-handler',
      }),
    );
    await app.close();
  });

  it('fails a hand-written row whose payload fails validate() for good, without running it', async () => {
    const seen = new Seen();
    const app = await start(seen);
    const { id } = await insertJobRow(db, {
      queue: 'run',
      job_type: 'run.checked',
      payload: { n: 'not a number' },
      max_retries: 3,
    });
    const row = await waitForStatus(db, id, 'failed');
    expect(row.attempts).toBe(1);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.last_error).toContain('PayloadDecodeError');
    expect(row.last_error).toContain('n must be a number');

    // A valid row of the same job runs.
    const { id: validId } = await insertJobRow(db, {
      queue: 'run',
      job_type: 'run.checked',
      payload: { n: 7 },
    });
    // A hand-written insert sends no NOTIFY: the poll finds it.
    await waitForStatus(db, validId, 'completed');
    expect(seen.calls.map((call) => call.payload)).toEqual([{ n: 7 }]);
    expect((await jobRow(db, id))!.attempts).toBe(1);
    await app.close();
  });

  it('an API-only instance (worker.enabled false) enqueues but never claims, and does not LISTEN', async () => {
    const seen = new Seen();
    const apiOnly = await suite.app({
      providers: [RunHandlers, { provide: Seen, useValue: seen }],
      jobs: { worker: { enabled: false, pollIntervalMs: 10 } },
    });
    expect(apiOnly.get(JobsWorker).workedQueues).toEqual([]);
    // A worker of another queue, on the same database, as a yardstick of time.
    const otherSeen = new Seen();
    const other = await suite.app({
      providers: [OtherHandlers, { provide: Seen, useValue: otherSeen }],
      jobs: { worker: { pollIntervalMs: 10 } },
    });

    const id = await apiOnly
      .get(JobsService)
      .enqueue(RunHandlers, 'greet', { who: 'nobody' });
    // Each ping runs through a full NOTIFY + claim cycle of the other worker: while they
    // run one after another, the API-only instance has every chance to claim (it must not).
    for (let i = 0; i < 5; i += 1) {
      const pingId = await other.get(JobsService).enqueue('other.ping', { i });
      await waitForStatus(db, pingId, 'completed');
    }
    expect(otherSeen.calls).toHaveLength(5);
    expect((await jobRow(db, id))!).toMatchObject({
      status: 'pending',
      attempts: 0,
      started_at: null,
    });
    expect(seen.calls).toEqual([]);
    expect(apiOnly.get(JobsWorker).runningCount).toBe(0);
    const backends = await connectionsOf(db, apiOnly.applicationName);
    expect(
      backends.filter((b) => b.application_name.endsWith('(listener)')),
    ).toEqual([]);
    await apiOnly.close();
    await other.close();

    // The job was claimable all along: a worker of its queue runs it.
    const worker = await start(seen);
    await waitForStatus(db, id, 'completed');
    expect(seen.calls.map((call) => call.payload)).toEqual([{ who: 'nobody' }]);
    await worker.close();
  });
});
