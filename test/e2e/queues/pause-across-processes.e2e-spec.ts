import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobsQueueControl } from 'nest-jobs';
import { ChaosRun, CHAOS_WORKER } from '../../chaos/harness/chaos-run.js';
import type { Incarnation } from '../../chaos/harness/cluster.js';
import { CHAOS_QUEUE } from '../../chaos/fixture/protocol.js';
import { jobRows, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Generous: worker processes boot and work on a machine shared by others. */
const WAIT = { timeoutMs: 30_000 };
const POLL_MS = CHAOS_WORKER.pollIntervalMs;

/**
 * Pause and resume of a queue across worker processes: each worker runs in a child process
 * of its own (the chaos fixture), one listening for notifications and one polling only; the
 * operator is a Nest app in this process. The children report the queues their worker
 * knows paused and how many handlers run (chaos/fixture/protocol.ts, STATUS_LINE).
 */
describe('pause of a queue across processes', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('pause-across-processes');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  const queues = () => run.producer.app.get(JobsQueueControl);
  const knowsPaused = (worker: Incarnation, paused: boolean) =>
    waitFor(
      `${worker.id} to see ${CHAOS_QUEUE} ${paused ? 'paused' : 'running'}`,
      () =>
        worker.status?.pausedQueues.includes(CHAOS_QUEUE) === paused
          ? true
          : undefined,
      WAIT,
    );
  const startsIn = async (ids: readonly string[]) =>
    (
      await run.db.query<{ incarnation: string }>(
        `SELECT incarnation FROM chaos_ledger WHERE job_id = ANY($1::uuid[]) AND event = 'start'`,
        [ids],
      )
    ).map((row) => row.incarnation);

  it('every process stops claiming the queue, running jobs finish, resume runs the backlog; a process started while paused never claims', async () => {
    const workers = await run.cluster.startReady(['listening'], {});
    workers.push(
      ...(await run.cluster.startReady(['polling'], {
        jobsDatabase: { wakeUps: 'poll' },
      })),
    );
    // A job that runs through the pause.
    const [long] = await run.producer.enqueueWork([
      { seq: run.producer.nextSeq(), ms: 1_500 },
    ]);
    await waitFor(
      'the long job to start',
      async () => (await startsIn([long!])).length === 1,
      WAIT,
    );

    expect(await queues().pause(CHAOS_QUEUE)).toBe(true);
    for (const worker of workers) await knowsPaused(worker, true);
    // A process started while the queue is paused learns it before its first claim.
    const [late] = await run.cluster.startReady(['late'], {});
    workers.push(late!);
    await knowsPaused(late!, true);

    // Pooled enqueues send a NOTIFY: a listening worker that ignored the pause would
    // claim at once, a polling one within a poll interval.
    const backlog = await run.producer.enqueueWork(
      run.producer.workPayloads(20, 10, 50),
    );
    // The running job finishes during the pause.
    await waitForStatus(run.db, long!, 'completed', WAIT);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 4));
    expect(await startsIn(backlog)).toEqual([]);
    expect(
      (await jobRows(run.db, 'id = ANY($1::uuid[])', [backlog])).map(
        (row) => row.status,
      ),
    ).toEqual(backlog.map(() => 'pending'));
    for (const worker of workers) expect(worker.status?.running).toBe(0);

    expect(await queues().resume(CHAOS_QUEUE)).toBe(true);
    for (const worker of workers) await knowsPaused(worker, false);
    for (const id of backlog) await waitForStatus(run.db, id, 'completed');
    expect(await startsIn(backlog)).toHaveLength(backlog.length);
  }, 120_000);
});
