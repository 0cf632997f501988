import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobControl } from 'nest-jobs';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import type { Incarnation } from '../../chaos/harness/cluster.js';
import { jobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Generous: two to five worker processes boot and work on a machine shared by others. */
const WAIT = { timeoutMs: 30_000 };

/**
 * Cancel of a running job held by another process: the worker runs in a child process of
 * its own (the chaos fixture: NestFactory + TypeOrmModule + JobsModule, as an application
 * boots), the operator is a Nest app in this process. The child reports its
 * `job.attempt-cancelled` events and its running count on stdout (chaos/fixture/protocol.ts);
 * its handlers write a ledger row when they start and when they finish.
 */
describe('cancel of a running job in another process', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('cancel-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  const control = () => run.producer.app.get(JobControl);

  /** Enqueues one `chaos.work` job and waits until `worker` runs it. */
  async function runningIn(
    worker: Incarnation,
    payload: { ms: number; ignoreAbort?: boolean },
  ): Promise<string> {
    const [id] = await run.producer.enqueueWork([
      { seq: run.producer.nextSeq(), ...payload },
    ]);
    await waitFor(
      `job ${id} to start in ${worker.id}`,
      async () =>
        (
          await run.db.query(
            `SELECT 1 FROM chaos_ledger WHERE job_id = $1 AND event = 'start' AND incarnation = $2`,
            [id, worker.id],
          )
        ).length === 1,
      WAIT,
    );
    return id!;
  }

  const ledgerEvents = async (id: string) =>
    (
      await run.db.query<{ event: string }>(
        `SELECT event FROM chaos_ledger WHERE job_id = $1 ORDER BY id`,
        [id],
      )
    ).map((row) => row.event);

  it('through NOTIFY: the handler in the other process is aborted, its slot freed, the row cancelled', async () => {
    // Heartbeats far slower than the waits below: only the NOTIFY can carry the cancel.
    const [worker] = await run.cluster.startReady(['listening'], {
      worker: {
        ...CHAOS_WORKER,
        heartbeatIntervalMs: 60_000,
        leaseMs: 180_000,
      },
    });
    const id = await runningIn(worker!, { ms: 120_000 });
    await waitFor('the child to report one running', () =>
      worker!.status?.running === 1 ? true : undefined,
    );
    expect(await control().cancel(id)).toBeUndefined();
    await waitFor(
      'the child to let the attempt go',
      () => worker!.attemptsCancelled.length === 1,
      WAIT,
    );
    expect(worker!.attemptsCancelled).toEqual([
      { jobId: id, attempt: 1, by: 'operator' },
    ]);
    // The handler stopped on its signal (a 2-minute handler): its slot is free.
    await waitFor(
      'the child to run nothing',
      () => (worker!.status?.running === 0 ? true : undefined),
      WAIT,
    );
    expect(await ledgerEvents(id)).toEqual(['start']);
    expect(await jobRow(run.db, id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      locked_until: null,
    });
    expect(worker!.leaseLostWarnings).toEqual([]);
    worker!.signal('SIGTERM');
    expect(await worker!.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('through the heartbeat of a process without LISTEN: a handler that ignores its signal finishes, its completion changes nothing', async () => {
    const [worker] = await run.cluster.startReady(['polling'], {
      jobsDatabase: { wakeUps: 'poll' },
      worker: {
        ...CHAOS_WORKER,
        heartbeatIntervalMs: 200,
        leaseMs: 5_000,
      },
    });
    // Ignores its signal and finishes 3 s later: long enough for a heartbeat to find the
    // cancel first, short enough to see its late completion arrive.
    const id = await runningIn(worker!, { ms: 3_000, ignoreAbort: true });
    await control().cancel(id);
    await waitFor(
      'the heartbeat to find the cancel',
      () => worker!.attemptsCancelled.length === 1,
      WAIT,
    );
    expect(worker!.attemptsCancelled).toEqual([
      { jobId: id, attempt: 1, by: 'operator' },
    ]);
    // The handler ran to its end in the child (its ledger `end` row), after the cancel.
    await waitFor(
      'the handler to finish',
      async () => (await ledgerEvents(id)).includes('end'),
      WAIT,
    );
    await waitFor(
      'the child to run nothing',
      () => (worker!.status?.running === 0 ? true : undefined),
      WAIT,
    );
    // A few more beats: neither the late completion nor a heartbeat touched the row.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await jobRow(run.db, id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      locked_until: null,
    });
    expect(worker!.leaseLostWarnings).toEqual([]);
    worker!.signal('SIGTERM');
    expect(await worker!.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
