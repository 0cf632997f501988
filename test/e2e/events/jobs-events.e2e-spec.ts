import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  FatalJobError,
  Job,
  JobsEvents,
  JobsService,
  JobsWorkerStatus,
  type JobContext,
  type JobsEventMap,
  type JobsEventName,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { jobRow, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';

/** Handlers that succeed, fail until told otherwise, or fail for good. */
@Injectable()
class EventHandlers {
  @Job({ name: 'ev.ok', queue: 'ev' })
  ok(_payload: object) {}

  @Job({
    name: 'ev.flaky',
    queue: 'ev',
    maxRetries: 1,
    retry: { type: 'fixed', baseMs: 10 },
  })
  flaky(payload: { n: number }) {
    throw new Error(`flaky failure ${payload.n}`);
  }

  @Job({ name: 'ev.fatal', queue: 'ev', maxRetries: 5 })
  fatal(_payload: object) {
    throw new FatalJobError('no point retrying');
  }
}

type Recorded = {
  [K in JobsEventName]: { event: K; payload: JobsEventMap[K] };
}[JobsEventName];

/** Subscribes to every job event of `app` and keeps them in order. */
function record(app: SuiteApp): Recorded[] {
  const seen: Recorded[] = [];
  const events = app.get(JobsEvents);
  const names: JobsEventName[] = [
    'job.enqueued',
    'job.claimed',
    'job.started',
    'job.completed',
    'job.retried',
    'job.failed',
  ];
  for (const name of names)
    events.on(name, (payload) => {
      seen.push({ event: name, payload } as Recorded);
    });
  return seen;
}

function eventsOf(seen: Recorded[], jobId: string): string[] {
  return seen
    .filter((r) =>
      r.event === 'job.enqueued'
        ? r.payload.jobs.some((job) => job.id === jobId)
        : 'job' in r.payload && r.payload.job.id === jobId,
    )
    .map((r) => r.event);
}

describe('events: the typed catalogue', () => {
  const suite = useJobsSuite('events', { clearJobsAfterEach: true });
  const { db } = suite;
  const start = () =>
    suite.app({
      providers: [EventHandlers],
      jobs: { validateJobNames: false, worker: { pollIntervalMs: 50 } },
    });

  it('reports a job that completes: enqueued, claimed, started, completed, each with the attempt', async () => {
    const app = await start();
    const seen = record(app);
    const id = await app
      .get(JobsService)
      .enqueue(EventHandlers, 'ok', {}, { traceId: 'tr-1' });
    await waitFor('the completion event', () =>
      eventsOf(seen, id).includes('job.completed'),
    );
    expect(eventsOf(seen, id)).toEqual([
      'job.enqueued',
      'job.claimed',
      'job.started',
      'job.completed',
    ]);
    const enqueued = seen.find((r) => r.event === 'job.enqueued')!;
    expect(enqueued.payload).toMatchObject({
      transactional: false,
      jobs: [{ id, name: 'ev.ok', queue: 'ev', traceId: 'tr-1' }],
    });
    const completed = seen.find((r) => r.event === 'job.completed')!;
    expect(completed.payload).toMatchObject({
      job: {
        id,
        name: 'ev.ok',
        queue: 'ev',
        attempt: 1,
        maxRetries: 3,
        traceId: 'tr-1',
      },
    });
    if (completed.event !== 'job.completed') throw new Error('unreachable');
    expect(completed.payload.durationMs).toBeGreaterThanOrEqual(0);
    // What listeners get cannot change the worker's state.
    expect(Object.isFrozen(completed.payload.job)).toBe(true);
    await waitForStatus(db, id, 'completed');
  });

  it('reports each failed attempt as retried or failed, with the reason and the stored error', async () => {
    const app = await start();
    const seen = record(app);
    const jobs = app.get(JobsService);
    const flaky = await jobs.enqueue(EventHandlers, 'flaky', { n: 7 });
    const fatal = await jobs.enqueue(EventHandlers, 'fatal', {});
    const unknown = await jobs.enqueue('ev.nobody', {}, { queue: 'ev' });
    await waitFor('every job to fail for good', () =>
      [flaky, fatal, unknown].every((id) =>
        eventsOf(seen, id).includes('job.failed'),
      ),
    );
    expect(eventsOf(seen, flaky)).toEqual([
      'job.enqueued',
      'job.claimed',
      'job.started',
      'job.retried',
      'job.claimed',
      'job.started',
      'job.failed',
    ]);
    const failures = seen.filter(
      (r): r is Extract<Recorded, { event: 'job.failed' | 'job.retried' }> =>
        r.event === 'job.failed' || r.event === 'job.retried',
    );
    const of = (id: string) => failures.filter((r) => r.payload.job.id === id);
    const [retried, flakyFailed] = of(flaky);
    expect(retried!.payload).toMatchObject({
      job: { attempt: 1 },
      errorText: expect.stringContaining('flaky failure 7'),
    });
    expect(
      (retried!.payload as { retryInMs: number }).retryInMs,
    ).toBeLessThanOrEqual(10);
    expect(flakyFailed!.payload).toMatchObject({
      job: { attempt: 2 },
      reason: 'retries-exhausted',
    });
    expect(of(fatal)[0]!.payload).toMatchObject({ reason: 'fatal' });
    expect(of(unknown)[0]!.payload).toMatchObject({ reason: 'no-handler' });
    // No handler: claimed, never started.
    expect(eventsOf(seen, unknown)).toEqual([
      'job.enqueued',
      'job.claimed',
      'job.failed',
    ]);
    // The event's error text is what the row stores.
    await waitForStatus(db, fatal, 'failed');
    expect((await jobRow(db, fatal))!.last_error).toBe(
      (of(fatal)[0]!.payload as { errorText: string }).errorText,
    );
  });

  it('the per-job log lines are a subscriber of the events', async () => {
    const app = await start();
    const jobs = app.get(JobsService);
    const ok = await jobs.enqueue(EventHandlers, 'ok', {}, { traceId: 'tr-2' });
    const flaky = await jobs.enqueue(EventHandlers, 'flaky', { n: 3 });
    await waitForStatus(db, ok, 'completed');
    await waitForStatus(db, flaky, 'failed');
    const { logger } = app;
    expect(logger.messages('debug')).toEqual(
      expect.arrayContaining([
        `Claimed job ${ok} (ev.ok) attempt 1 [trace tr-2]`,
        `Completed job ${ok} (ev.ok) attempt 1 [trace tr-2]`,
      ]),
    );
    expect(logger.messages('warn')).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Job ${flaky} \\(ev\\.flaky\\) attempt 1 failed, retry in \\d+ ms: Error: flaky failure 3$`,
        ),
      ),
    );
    expect(logger.messages('error')).toContain(
      `Job ${flaky} (ev.flaky) failed for good at attempt 2: Error: flaky failure 3`,
    );
  });

  it('a transactional enqueue is reported as such, inside the transaction', async () => {
    const app = await start();
    const seen = record(app);
    const id = await app
      .get(DataSource)
      .transaction((manager) =>
        app.get(JobsService).enqueue(EventHandlers, 'ok', {}, { manager }),
      );
    const enqueued = seen.find((r) => r.event === 'job.enqueued')!;
    expect(enqueued.payload).toMatchObject({
      transactional: true,
      jobs: [{ id }],
    });
  });

  it('a listener that throws, rejects or returns a revoked Proxy is logged and changes nothing', async () => {
    const app = await start();
    const events = app.get(JobsEvents);
    events.on('job.completed', () => {
      throw new Error('listener bug');
    });
    events.on('job.completed', () => Promise.reject(new Error('async bug')));
    events.on('job.started', () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    });
    const calls: string[] = [];
    const off = events.on('job.completed', ({ job }) => {
      calls.push(job.id);
    });
    const jobs = app.get(JobsService);
    const first = await jobs.enqueue(EventHandlers, 'ok', {});
    await waitForStatus(db, first, 'completed');
    await waitFor('the listener to see it', () => calls.includes(first));
    off();
    const second = await jobs.enqueue(EventHandlers, 'ok', {});
    await waitForStatus(db, second, 'completed');
    expect(calls).toEqual([first]);
    await waitFor('both listener failures to be logged', () =>
      ['listener bug', 'async bug'].every((text) =>
        app.logger
          .messages('error')
          .some(
            (m) =>
              m.includes('A listener of "job.completed" failed') &&
              m.includes(text),
          ),
      ),
    );
    expect(() => events.on('job.failed', 'not a function' as never)).toThrow(
      TypeError,
    );
  });

  it('JobsWorkerStatus reports the worker: running with its queues and LISTEN, disabled, stopped', async () => {
    const app = await start();
    const status = app.get(JobsWorkerStatus);
    await waitFor('the LISTEN connection', () => status.snapshot().listening);
    expect(status.snapshot()).toEqual({
      state: 'running',
      queues: ['ev'],
      running: 0,
      concurrency: 20,
      claimedAhead: 0,
      claimSize: 20,
      listening: true,
      claimFailuresInARow: 0,
      pausedQueues: [],
    });
    const apiOnly = await suite.app({
      providers: [EventHandlers],
      jobs: { worker: { enabled: false } },
    });
    expect(apiOnly.get(JobsWorkerStatus).snapshot()).toMatchObject({
      state: 'disabled',
      queues: [],
      listening: false,
    });
    await app.close();
    expect(status.snapshot()).toMatchObject({
      state: 'stopped',
      listening: false,
    });
  });
});
