import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  EnqueueFailedError,
  Job,
  JobsService,
  JobsWorkerStatus,
  LeaseLostError,
  type JobContext,
} from 'nest-jobs';
import { waitForListener } from '../../support/backends.js';
import { EventLog } from '../../support/event-log.js';
import { aborted } from '../../support/gate.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRow, waitForStatus } from '../../support/jobs-table.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { waitFor } from '../../support/wait-for.js';

/** The attempts of the long job: the first runs until its signal aborts, later ones at once. */
class Attempts {
  readonly started: number[] = [];
  readonly abortReasons = new Map<number, unknown>();

  async run(ctx: JobContext): Promise<void> {
    this.started.push(ctx.attempt);
    if (ctx.attempt > 1) return;
    const reason = await aborted(ctx.signal);
    this.abortReasons.set(ctx.attempt, reason);
    throw reason;
  }
}

@Injectable()
class PartitionHandlers {
  readonly quickRuns: string[] = [];

  constructor(@Inject(Attempts) private readonly attempts: Attempts) {}

  @Job({ name: 'partition.long', queue: 'partition' })
  long(_payload: object, ctx: JobContext) {
    return this.attempts.run(ctx);
  }

  @Job({ name: 'partition.quick', queue: 'partition' })
  quick(payload: { n: number }) {
    this.quickRuns.push(String(payload.n));
  }
}

const LEASE_MS = 3_000;
/** Long enough for a new connection and an insert on a loaded machine, after healing. */
const ENQUEUE_TIMEOUT_MS = 3_000;

describe('a partition that drops packets instead of closing connections', () => {
  const suite = useJobsSuite('partition');
  const { db } = suite;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await TcpProxy.start(db.url);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('gives up the leases it cannot renew, bounds enqueues, and recovers by itself after healing', async () => {
    const attempts = new Attempts();
    const app = await suite.app({
      // The app's pool, the worker's pool and the LISTEN connection all go through the proxy.
      url: proxy.urlFor(db.url),
      // One connection in the application's pool: the enqueue after healing shows that the
      // one that timed out was closed, not handed out again.
      poolSize: 1,
      providers: [
        EventLog,
        PartitionHandlers,
        { provide: Attempts, useValue: attempts },
      ],
      jobs: {
        enqueueTimeoutMs: ENQUEUE_TIMEOUT_MS,
        worker: {
          leaseMs: LEASE_MS,
          queryTimeoutMs: 1_000,
          recoveryIntervalMs: 200,
          pollIntervalMs: 200,
        },
      },
    });
    try {
      const jobs = app.get(JobsService);
      const events = app.get(EventLog);
      await waitForListener(db, app);
      const id = await jobs.enqueue('partition.long', {});
      await waitFor('the first attempt to start', () =>
        attempts.started.includes(1),
      );

      proxy.partition();

      // A pooled enqueue fails within its bound instead of hanging (the test's timeout).
      const failure = await jobs.enqueue('partition.quick', { n: 0 }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(EnqueueFailedError);
      expect((failure as EnqueueFailedError).timedOut).toBe(true);
      expect((failure as Error).message).toContain(
        'may or may not have been written',
      );

      // Within one lease of its last renewal, the attempt is given up here.
      const reason = await waitFor(
        'the first attempt to lose its lease',
        () => attempts.abortReasons.get(1),
        { timeoutMs: 3 * LEASE_MS },
      );
      expect(reason).toBeInstanceOf(LeaseLostError);
      expect(events.of('job.lease-lost').map((e) => e.job.id)).toEqual([id]);
      // The LISTEN connection is found dead too (it would never say so itself).
      await waitFor('the LISTEN probe to time out', () =>
        app.logger
          .messages('warn')
          .some((line) => line.includes('LISTEN connection did not answer')),
      );
      // No outcome was written: the row is as the claim left it.
      expect(await jobRow(db, id)).toMatchObject({
        status: 'running',
        attempts: 1,
        last_error: null,
      });

      proxy.heal();

      // The lease sweep returns the job, and it runs again: nothing lost.
      const row = await waitForStatus(db, id, 'completed', {
        timeoutMs: 20_000,
      });
      expect(row.attempts).toBe(2);
      expect(row.last_error).toContain('Lease expired while attempt 1');
      expect(attempts.started).toEqual([1, 2]);
      expect(
        events
          .of('job.rescued')
          .flatMap((e) => e.jobs)
          .map((job) => job.id),
      ).toContain(id);
      // No outcome of the lost attempt: it failed, yet nothing counted it.
      expect(events.of('job.failed')).toEqual([]);
      expect(events.of('job.retried')).toEqual([]);

      // New jobs are enqueued, claimed and run without a restart. A statement sent during
      // the partition may still hold the application's one connection for the rest of its
      // bound (a NOTIFY queued behind the timed-out enqueue, on a connection opened during
      // the partition): an enqueue right after healing may time out once, not every time
      // (were the timed-out connection handed out again, each one would).
      let next: string | undefined;
      for (let tries = 1; next === undefined; tries += 1) {
        next = await jobs
          .enqueue('partition.quick', { n: 1 })
          .catch((error) => {
            if (tries === 3 || !(error as EnqueueFailedError).timedOut)
              throw error;
            return undefined;
          });
      }
      await waitForStatus(db, next, 'completed', { timeoutMs: 20_000 });
      // The LISTEN connection is back.
      await waitFor(
        'the listener to be back',
        () => app.get(JobsWorkerStatus).snapshot().listening,
        { timeoutMs: 20_000 },
      );
      await waitForListener(db, app);
    } finally {
      // Frozen connections never answer a goodbye: destroyed here, the app can close.
      await proxy.close();
    }
  });

  it('shuts down during the partition instead of waiting for a goodbye that never comes', async () => {
    const shutdownProxy = await TcpProxy.start(db.url);
    try {
      const app = await suite.app({
        url: shutdownProxy.urlFor(db.url),
        providers: [EventLog, PartitionHandlers, Attempts],
        jobs: { worker: { leaseMs: LEASE_MS, queryTimeoutMs: 1_000 } },
      });
      await waitForListener(db, app);
      shutdownProxy.partition();
      const closing = app.close();
      // The worker is stopped (LISTEN connection and pool closed) with every connection frozen.
      await waitFor(
        'the worker to stop',
        () => app.get(JobsWorkerStatus).snapshot().state === 'stopped',
      );
      // Only now may the server learn that the frozen connections are gone.
      await shutdownProxy.close();
      await closing;
    } finally {
      await shutdownProxy.close();
    }
  });
});
