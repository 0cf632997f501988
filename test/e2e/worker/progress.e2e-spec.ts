import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidProgressError,
  Job,
  JobsService,
  RescheduleJob,
  SnoozeJob,
  type JobContext,
} from 'nest-jobs';
import { EventLog } from '../../support/event-log.js';
import { Gate } from '../../support/gate.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  jobRow,
  updateJobRow,
  waitForStatus,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** What the handlers share with the test. */
class Probe {
  gate = new Gate();
  started = new Gate();
  context: JobContext | undefined;
  refused: unknown[] = [];
}

const Q = 'progress';

@Injectable()
class ProgressHandlers {
  constructor(@Inject(Probe) private readonly probe: Probe) {}

  /** Reports 0..199 in one go, then waits for the test. */
  @Job({ name: 'progress.burst', queue: Q })
  async burst(_payload: object, ctx: JobContext) {
    for (let i = 0; i < 200; i += 1) ctx.progress(i);
    this.probe.context = ctx;
    this.probe.started.open();
    await this.probe.gate.opened;
  }

  /** Reports once and returns at once. */
  @Job({ name: 'progress.quick', queue: Q })
  quick(
    payload: { then: 'return' | 'snooze' | 'reschedule' },
    ctx: JobContext,
  ) {
    ctx.progress({ step: 'done', of: 3 });
    this.probe.context = ctx;
    if (payload.then === 'snooze') throw new SnoozeJob(60_000);
    if (payload.then === 'reschedule') return new RescheduleJob(60_000);
    return undefined;
  }

  /** Tries values ctx.progress must refuse, keeps what it threw, then completes. */
  @Job({ name: 'progress.bad', queue: Q })
  bad(_payload: object, ctx: JobContext) {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [
      Number.NaN,
      Infinity,
      10n,
      undefined,
      () => 1,
      cycle,
      { text: 'a\u0000b' },
      'x'.repeat(5_000),
    ]) {
      try {
        ctx.progress(value);
        this.probe.refused.push('accepted');
      } catch (error) {
        this.probe.refused.push(error);
      }
    }
  }
}

describe('worker: ctx.progress', () => {
  const suite = useJobsSuite('worker_progress', { clearJobsAfterEach: true });
  const { db } = suite;

  const start = (probe: Probe, progressIntervalMs: number) =>
    suite.app({
      providers: [
        EventLog,
        ProgressHandlers,
        { provide: Probe, useValue: probe },
      ],
      jobs: { worker: { pollIntervalMs: 50, progressIntervalMs } },
    });

  it('keeps the latest value and writes it in one statement, not one per call', async () => {
    const probe = new Probe();
    const app = await start(probe, 50);
    const id = await app
      .get(JobsService)
      .enqueue(ProgressHandlers, 'burst', {});
    await probe.started.opened;
    const events = app.get(EventLog);
    await waitFor('the progress event', async () =>
      events.of('job.progress').length > 0 ? true : undefined,
    );
    expect((await jobRow(db, id))!.progress).toBe(199);
    // 200 calls in one turn of the event loop: one write, one event, with the latest value.
    expect(events.of('job.progress')).toEqual([
      { job: expect.objectContaining({ id, attempt: 1 }), value: 199 },
    ]);
    probe.gate.open();
    const row = await waitForStatus(db, id, 'completed');
    expect(row.progress).toBe(199);
    // The attempt is over: a late call is accepted and changes nothing.
    probe.context!.progress(1_000);
    await app.close();
    expect((await jobRow(db, id))!.progress).toBe(199);
    expect(events.of('job.progress')).toHaveLength(1);
  });

  it('writes the last value just before the outcome, even when the interval has not come', async () => {
    const probe = new Probe();
    const app = await start(probe, 600_000);
    const id = await app
      .get(JobsService)
      .enqueue(ProgressHandlers, 'quick', { then: 'return' });
    const row = await waitForStatus(db, id, 'completed');
    expect(row.progress).toEqual({ step: 'done', of: 3 });
    expect(app.get(EventLog).of('job.progress')).toEqual([
      {
        job: expect.objectContaining({ id }),
        value: { step: 'done', of: 3 },
      },
    ]);
  });

  it('a snooze keeps the progress; a reschedule (a fresh job) clears it', async () => {
    const probe = new Probe();
    const app = await start(probe, 600_000);
    const service = app.get(JobsService);
    const snoozed = await service.enqueue(ProgressHandlers, 'quick', {
      then: 'snooze',
    });
    const rescheduled = await service.enqueue(ProgressHandlers, 'quick', {
      then: 'reschedule',
    });
    const requeued = (id: string) =>
      waitFor(`job ${id} requeued`, async () => {
        const row = await jobRow(db, id);
        return row?.status === 'pending' && row.releases === 1
          ? row
          : undefined;
      });
    expect((await requeued(snoozed)).progress).toEqual({
      step: 'done',
      of: 3,
    });
    expect((await requeued(rescheduled)).progress).toBeNull();
  });

  it('is fenced to the attempt: a value of an attempt that lost its claim is not written', async () => {
    const probe = new Probe();
    const app = await start(probe, 50);
    const id = await app
      .get(JobsService)
      .enqueue(ProgressHandlers, 'burst', {});
    await probe.started.opened;
    const events = app.get(EventLog);
    await waitFor('the first progress write', async () =>
      events.of('job.progress').length === 1 ? true : undefined,
    );
    // As if a shutdown elsewhere had released the attempt and the job were claimed again.
    await updateJobRow(db, id, { releases: 7, progress: 'newer attempt' });
    probe.context!.progress(500);
    await waitFor('the second progress write', async () =>
      events.of('job.progress').length === 2 ? true : undefined,
    );
    expect((await jobRow(db, id))!.progress).toBe('newer attempt');
    probe.gate.open();
    await app.close();
    expect((await jobRow(db, id))!.progress).toBe('newer attempt');
  });

  it('refuses what it cannot store as given with InvalidProgressError, in the handler', async () => {
    const probe = new Probe();
    const app = await start(probe, 50);
    const id = await app.get(JobsService).enqueue(ProgressHandlers, 'bad', {});
    const row = await waitForStatus(db, id, 'completed');
    expect(row.progress).toBeNull();
    expect(probe.refused).toHaveLength(8);
    for (const refused of probe.refused)
      expect(refused).toBeInstanceOf(InvalidProgressError);
    const messages = probe.refused.map((e) => (e as Error).message);
    expect(messages[0]).toMatch(
      /^Invalid progress for job "progress.bad": progress is NaN/,
    );
    expect(messages[5]).toContain('progress.self');
    expect(messages[7]).toMatch(/over the limit of 4096 \(ctx.progress\)/);
    expect(app.get(EventLog).of('job.progress')).toEqual([]);
  });
});
