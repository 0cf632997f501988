import { afterEach, describe, expect, it } from '@jest/globals';
import { LeaseLostError } from '../../../packages/nest-jobs/src/errors/job-failure.errors.js';
import { JobsEvents } from '../../../packages/nest-jobs/src/events/jobs-events.js';
import {
  LeaseHeartbeat,
  leaseSafetyMarginMs,
} from '../../../packages/nest-jobs/src/maintenance/lease-heartbeat.js';
import type { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import { attemptKey } from '../../../packages/nest-jobs/src/sql/job-rows.js';
import { HeldAttempt } from '../../../packages/nest-jobs/src/worker/held-attempt.js';
import { waitFor } from '../../support/wait-for.js';

const LEASE_MS = 1_000;
const INTERVAL_MS = 200;

/**
 * The lease-loss rule alone, with the database replaced by the one answer under test (a
 * renewal that never answers, fails at once, or renews): the partition itself, through a
 * real server, is test/e2e/connections/partition.e2e-spec.ts.
 */
describe('LeaseHeartbeat: leases it cannot renew', () => {
  const started: LeaseHeartbeat[] = [];
  afterEach(() => {
    for (const heartbeat of started.splice(0)) heartbeat.stop();
  });

  function attempt(id: string): HeldAttempt {
    return new HeldAttempt(
      {
        id,
        queue: 'q',
        jobType: 'j',
        payload: '{}',
        attempt: 1,
        releases: 0,
        maxRetries: 0,
        retryPolicy: null,
        traceId: null,
        createdAtMs: 0,
        checkpoint: null,
        payloadBytes: null,
      },
      performance.now(),
    );
  }

  function start(
    held: HeldAttempt[],
    heartbeat: JobsRepository['heartbeat'],
  ): { lost: string[] } {
    const events = new JobsEvents();
    const lost: string[] = [];
    events.on('job.lease-lost', ({ job }) => lost.push(job.id));
    const task = new LeaseHeartbeat(
      { heartbeat } as unknown as JobsRepository,
      () => held,
      events,
      LEASE_MS,
      INTERVAL_MS,
    );
    started.push(task);
    task.start();
    return { lost };
  }

  it('gives up a running attempt whose renewal hangs, before its lease would expire', async () => {
    const job = attempt('a');
    const { lost } = start([job], () => new Promise(() => undefined));
    await waitFor('the lease to be lost', () => lost.length > 0);
    expect(lost).toEqual(['a']);
    expect(job.leaseLost).toBe(true);
    expect(job.signal.reason).toBeInstanceOf(LeaseLostError);
  });

  it('gives up a running attempt whose renewals fail at once', async () => {
    const job = attempt('a');
    const { lost } = start([job], () =>
      Promise.reject(new Error('connection refused')),
    );
    await waitFor('the lease to be lost', () => lost.length > 0);
    expect(lost).toEqual(['a']);
    expect(job.ownsAttempt).toBe(false);
  });

  it('keeps an attempt whose finished handler waits for its outcome write', async () => {
    const running = attempt('running');
    const finished = attempt('finished');
    finished.handlerDone = true;
    const { lost } = start([running, finished], () =>
      Promise.reject(new Error('connection refused')),
    );
    await waitFor('the running one to be lost', () => lost.length > 0);
    expect(lost).toEqual(['running']);
    expect(finished.ownsAttempt).toBe(true);
  });

  it('keeps an attempt renewed beat after beat, far past one lease', async () => {
    const job = attempt('a');
    let renewals = 0;
    const { lost } = start([job], async (attempts) => {
      renewals += 1;
      return {
        renewed: new Set(attempts.map(attemptKey)),
        cancelled: new Set(),
        busy: new Set(),
      };
    });
    await waitFor('renewals past one lease', () => renewals >= 8, {
      timeoutMs: 20_000,
    });
    expect(lost).toEqual([]);
    expect(job.ownsAttempt).toBe(true);
  });

  it('leaves a margin of a tenth of the lease, less when the interval leaves less room', () => {
    expect(leaseSafetyMarginMs(60_000, 15_000)).toBe(6_000);
    expect(leaseSafetyMarginMs(1_000, 900)).toBe(50);
  });
});
