import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  Job,
  JobsService,
  JobsWorker,
  LeaseLostError,
  type JobContext,
} from 'nest-jobs';
import { aborted, Gate } from '../../support/gate.js';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  updateJobRow,
  waitForStatus,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Lets the test hold each attempt of a job until it says so, and see what happened to it. */
class Attempts {
  readonly started: JobContext[] = [];
  readonly abortReasons = new Map<number, unknown>();
  private readonly gates = new Map<number, Gate>();

  gate(attempt: number): Gate {
    let gate = this.gates.get(attempt);
    if (!gate) this.gates.set(attempt, (gate = new Gate()));
    return gate;
  }

  async run(ctx: JobContext, { fail = false } = {}) {
    this.started.push(ctx);
    void aborted(ctx.signal).then((reason) =>
      this.abortReasons.set(ctx.attempt, reason),
    );
    await this.gate(ctx.attempt).opened;
    if (fail) throw new Error(`attempt ${ctx.attempt} failed late`);
  }

  attempts() {
    return this.started.map((ctx) => ctx.attempt);
  }
}

@Injectable()
class LeaseHandlers {
  constructor(@Inject(Attempts) private readonly attempts: Attempts) {}

  @Job({ name: 'lease.held', queue: 'leases' })
  held(_payload: object, ctx: JobContext) {
    return this.attempts.run(ctx);
  }

  @Job({ name: 'lease.failsLate', queue: 'leases' })
  failsLate(_payload: object, ctx: JobContext) {
    return this.attempts.run(ctx, { fail: true });
  }
}

const LEASE_MS = 1_000;

describe('worker: leases', () => {
  const suite = useJobsSuite('leases', { clearJobsAfterEach: true });
  const { db } = suite;

  const start = (
    attempts: Attempts,
    worker: { heartbeatIntervalMs?: number; leaseMs?: number } = {},
  ) =>
    suite.app({
      providers: [
        EventLog,
        LeaseHandlers,
        { provide: Attempts, useValue: attempts },
      ],
      jobs: {
        worker: {
          leaseMs: LEASE_MS,
          heartbeatIntervalMs: 200,
          // Sweep often: a lease that is not renewed in time gets rescued at once.
          recoveryIntervalMs: 100,
          pollIntervalMs: 50,
          ...worker,
        },
      },
    });

  const startedAttempt = (attempts: Attempts, n: number) =>
    waitFor(`attempt ${n} to start`, () =>
      attempts.started.find((ctx) => ctx.attempt === n),
    );

  /** Waits until the row's lease was renewed to beyond `leases` lease lengths after its start. */
  const leaseRenewedPast = (id: string, leases: number) =>
    waitFor(
      `the lease of ${id} to be renewed past ${leases} leases`,
      async () => {
        const row = await jobRow(db, id);
        return (
          row?.status === 'running' &&
          row.locked_until !== null &&
          row.locked_until.getTime() >
            row.started_at!.getTime() + leases * LEASE_MS
        );
      },
    );

  /** A running row whose worker died during attempt `attempts`: its lease ran out a second ago. */
  const expiredRow = (attempts: number) =>
    ({
      queue: 'leases',
      job_type: 'lease.held',
      status: 'running',
      attempts,
      max_retries: 3,
      started_at: dbNow('-5 s'),
      locked_until: dbNow('-1 s'),
    }) as const;

  it('heartbeats keep a job that outlives its lease: it runs once and is never rescued', async () => {
    const attempts = new Attempts();
    const app = await start(attempts);
    const id = await app.get(JobsService).enqueue(LeaseHandlers, 'held', {});
    await startedAttempt(attempts, 1);
    // Runs for over 2 s: about three lease lengths.
    await leaseRenewedPast(id, 3);
    attempts.gate(1).open();
    const row = await waitForStatus(db, id, 'completed');
    expect(row).toMatchObject({ attempts: 1, last_error: null });
    expect(attempts.attempts()).toEqual([1]);
    expect(attempts.abortReasons.size).toBe(0);
    const events = app.get(EventLog);
    expect(events.of('job.rescued')).toEqual([]);
    expect(events.of('job.lease-lost')).toEqual([]);
    await app.close();
  });

  it('rescues a running row whose lease expired and runs it again', async () => {
    const attempts = new Attempts();
    attempts.gate(2).open();
    attempts.gate(4).open();
    const app = await start(attempts);
    // As a worker that died during attempt 1 (and one that died at the last allowed attempt) left them.
    const { id } = await insertJobRow(db, expiredRow(1));
    const { id: lastId } = await insertJobRow(db, expiredRow(3));
    for (const jobId of [id, lastId])
      await waitForStatus(db, jobId, 'completed');
    expect(attempts.started.map((ctx) => [ctx.id, ctx.attempt])).toEqual(
      expect.arrayContaining([
        [id, 2],
        [lastId, 4],
      ]),
    );
    expect(attempts.started).toHaveLength(2);
    const row = (await jobRow(db, id))!;
    expect(row.attempts).toBe(2);
    // The rescue is recorded, and stays as the last error of the job.
    expect(row.last_error).toMatch(
      /^Lease expired while attempt 1 was running/,
    );
    expect((await jobRow(db, lastId))!.attempts).toBe(4);
    expect(
      app
        .get(EventLog)
        .of('job.rescued')
        .flatMap((e) => e.jobs),
    ).toContainEqual({
      id,
      name: 'lease.held',
      attempt: 1,
      status: 'pending',
    });
    await app.close();
  });

  it('fails for good an expired row that has no retries left', async () => {
    const attempts = new Attempts();
    const app = await start(attempts);
    const { id } = await insertJobRow(db, expiredRow(4));
    const row = await waitForStatus(db, id, 'failed');
    expect(row).toMatchObject({ attempts: 4, locked_until: null });
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.last_error).toMatch(
      /^Lease expired while attempt 4 was running/,
    );
    expect(attempts.started).toEqual([]);
    await app.close();
  });

  it('aborts an attempt whose claim was taken over, and ignores its late completion', async () => {
    const attempts = new Attempts();
    const app = await start(attempts);
    const id = await app.get(JobsService).enqueue(LeaseHandlers, 'held', {});
    await startedAttempt(attempts, 1);
    // Another worker rescued the job and claimed attempt 2 (it is running there now).
    await updateJobRow(db, id, {
      attempts: 2,
      started_at: dbNow(),
      locked_until: dbNow('1 minute'),
    });
    const reason = await waitFor('attempt 1 to be aborted', () =>
      attempts.abortReasons.get(1),
    );
    expect(reason).toBeInstanceOf(LeaseLostError);
    attempts.gate(1).open();
    await waitFor('the slot to be free', () =>
      app.get(JobsWorker).runningCount === 0 ? true : undefined,
    );
    await app.close();
    // Closing wrote every outcome this process had: none touched attempt 2.
    const row = (await jobRow(db, id))!;
    expect(row).toMatchObject({
      status: 'running',
      attempts: 2,
      finished_at: null,
      last_error: null,
    });
    expect(app.get(EventLog).of('job.lease-lost')).toEqual([
      { job: expect.objectContaining({ id, attempt: 1 }) },
    ]);
  });

  it('fences a completion or failure that ends before the heartbeat notices the takeover', async () => {
    const attempts = new Attempts();
    // Heartbeats far apart: the attempts end long before the next one.
    const app = await start(attempts, {
      leaseMs: 60_000,
      heartbeatIntervalMs: 30_000,
    });
    const jobs = app.get(JobsService);
    const completes = await jobs.enqueue(LeaseHandlers, 'held', {});
    await startedAttempt(attempts, 1);
    const fails = await jobs.enqueue(LeaseHandlers, 'failsLate', {});
    await waitFor('both attempts to start', () =>
      attempts.started.length === 2 ? true : undefined,
    );
    for (const id of [completes, fails])
      await updateJobRow(db, id, { attempts: 2, started_at: dbNow() });
    attempts.gate(1).open();
    await waitFor('the slots to be free', () =>
      app.get(JobsWorker).runningCount === 0 ? true : undefined,
    );
    await app.close();
    for (const id of [completes, fails]) {
      expect((await jobRow(db, id))!).toMatchObject({
        status: 'running',
        attempts: 2,
        finished_at: null,
        last_error: null,
      });
    }
    expect(attempts.abortReasons.size).toBe(0);
  });

  it('keeps a newer attempt claimed by this same process when an older one is still running', async () => {
    const attempts = new Attempts();
    const app = await start(attempts);
    const id = await app.get(JobsService).enqueue(LeaseHandlers, 'held', {});
    await startedAttempt(attempts, 1);
    // As if attempt 1 had been rescued: pending again, and this worker claims attempt 2
    // while attempt 1's handler still runs.
    await updateJobRow(db, id, {
      status: 'pending',
      locked_until: null,
      run_at: dbNow(),
    });
    await startedAttempt(attempts, 2);
    const reason = await waitFor('attempt 1 to be aborted', () =>
      attempts.abortReasons.get(1),
    );
    expect(reason).toBeInstanceOf(LeaseLostError);
    attempts.gate(1).open();
    // Attempt 2 outlives its lease several times over: its heartbeat must go on.
    await leaseRenewedPast(id, 3);
    expect(attempts.abortReasons.has(2)).toBe(false);
    attempts.gate(2).open();
    expect(await waitForStatus(db, id, 'completed')).toMatchObject({
      attempts: 2,
      last_error: null,
    });
    expect(attempts.attempts()).toEqual([1, 2]);
    await app.close();
  });
});
