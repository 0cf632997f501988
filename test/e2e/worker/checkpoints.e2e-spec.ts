import { beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  AttemptNotHeldError,
  InvalidCheckpointError,
  InvalidJobTransactionError,
  Job,
  JobEntity,
  JobsReader,
  JobsService,
  RescheduleJob,
  type JobContext,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
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
  /** Steps executed, committed or not, over all attempts. */
  executed = 0;
  /** Where each attempt started from. */
  resumedFrom: unknown[] = [];
  refused: unknown[] = [];
  gate = new Gate();
  started = new Gate();
  ended = new Gate();
  context: JobContext | undefined;
}

const Q = 'checkpoints';
const STEPS = 20;

@Injectable()
class LongJobs {
  constructor(
    @Inject(Probe) private readonly probe: Probe,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  /**
   * STEPS steps, each committed with its checkpoint in one transaction; the attempt fails
   * after the step numbered `failAt[attempt - 1]` (a crash in the middle of the job).
   */
  @Job({ name: 'long.steps', queue: Q, maxRetries: 5 })
  async steps(payload: { failAt: number[] }, ctx: JobContext) {
    const from =
      (ctx.lastCheckpoint as { next: number } | undefined)?.next ?? 0;
    this.probe.resumedFrom.push(from);
    for (let step = from; step < STEPS; step += 1) {
      this.probe.executed += 1;
      await this.dataSource.transaction(async (manager) => {
        await manager.query(
          'INSERT INTO steps (job_id, step) VALUES ($1, $2)',
          [ctx.id, step],
        );
        await ctx.checkpoint({ next: step + 1 }, { manager });
      });
      if (payload.failAt[ctx.attempt - 1] === step)
        throw new Error(`crash after step ${step}`);
    }
  }

  /** Fails after storing a checkpoint, on every attempt: the retry budget rule. */
  @Job({
    name: 'long.keeps',
    queue: Q,
    maxRetries: 0,
    checkpointKeepsRetries: true,
  })
  async keeps(_payload: object, ctx: JobContext) {
    const from = (ctx.lastCheckpoint as number | undefined) ?? 0;
    this.probe.resumedFrom.push(from);
    if (from >= 3) return;
    await ctx.checkpoint(from + 1);
    throw new Error('progress made, then failed');
  }

  /** The same without the rule: the one attempt is all it gets. */
  @Job({ name: 'long.counts', queue: Q, maxRetries: 0 })
  async counts(_payload: object, ctx: JobContext) {
    await ctx.checkpoint(1);
    throw new Error('progress made, then failed');
  }

  /** Tries checkpoints that must be refused. */
  @Job({ name: 'long.bad', queue: Q, maxRetries: 0 })
  async bad(_payload: object, ctx: JobContext) {
    this.probe.context = ctx;
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const tries: Array<() => Promise<void>> = [
      () => ctx.checkpoint(Number.NaN),
      () => ctx.checkpoint(10n),
      () => ctx.checkpoint(cycle),
      () => ctx.checkpoint({ text: 'a\u0000b' }),
      () => ctx.checkpoint('x'.repeat(20_000)),
      () => ctx.checkpoint(1, { manager: this.dataSource.manager }),
      () => ctx.checkpoint(1, 'manager' as never),
    ];
    for (const attempt of tries) {
      try {
        await attempt();
        this.probe.refused.push('accepted');
      } catch (error) {
        this.probe.refused.push(error);
      }
    }
  }

  /** Waits, then checkpoints (the test takes the job away meanwhile). */
  @Job({ name: 'long.fenced', queue: Q, maxRetries: 0 })
  async fenced(_payload: object, ctx: JobContext) {
    try {
      this.probe.started.open();
      await this.probe.gate.opened;
      await ctx.checkpoint({ next: 1 });
    } catch (error) {
      this.probe.refused.push(error);
    } finally {
      this.probe.ended.open();
    }
  }

  /** A reschedule starts afresh: no checkpoint. */
  @Job({ name: 'long.afresh', queue: Q, maxRetries: 0 })
  async afresh(_payload: object, ctx: JobContext) {
    this.probe.resumedFrom.push(ctx.lastCheckpoint);
    if (ctx.lastCheckpoint !== undefined) return undefined;
    await ctx.checkpoint('half');
    return this.probe.resumedFrom.length === 1
      ? new RescheduleJob(0)
      : undefined;
  }
}

describe('worker: checkpoints', () => {
  const suite = useJobsSuite('worker_checkpoints', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;

  beforeAll(async () => {
    await db.query(
      'CREATE TABLE steps (job_id uuid NOT NULL, step int NOT NULL, UNIQUE (job_id, step))',
    );
  });

  const start = (probe: Probe) =>
    suite.app({
      providers: [EventLog, LongJobs, { provide: Probe, useValue: probe }],
      jobs: {
        worker: { pollIntervalMs: 50 },
        retry: { type: 'fixed', baseMs: 10, jitter: 'none' },
      },
    });

  it('a long job that fails mid-way resumes from its checkpoint: each step committed once, total work one run', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(LongJobs, 'steps', { failAt: [4, 9, 10, 17] });
    const row = await waitForStatus(db, id, 'completed', { timeoutMs: 20_000 });
    expect(row.attempts).toBe(5);
    expect(probe.resumedFrom).toEqual([0, 5, 10, 11, 18]);
    const steps = await db.query<{ step: number }>(
      'SELECT step FROM steps WHERE job_id = $1 ORDER BY step',
      [id],
    );
    expect(steps.map((s) => s.step)).toEqual(
      Array.from({ length: STEPS }, (_, i) => i),
    );
    expect(probe.executed).toBe(STEPS);
    // Readable by operators and through the entity.
    expect((await app.get(JobsReader).get(id)).checkpoint).toEqual({
      next: STEPS,
    });
    const checkpointed = app.get(EventLog).of('job.checkpointed');
    expect(checkpointed).toHaveLength(STEPS);
    expect(checkpointed[0]).toEqual({
      job: expect.objectContaining({ id, attempt: 1 }),
      state: { next: 1 },
      inTransaction: true,
    });
    const entity = await app
      .get(DataSource)
      .getRepository(JobEntity)
      .findOneByOrFail({ id });
    expect(entity.checkpoint).toEqual({ next: STEPS });
    expect(entity.payloadBytes).toBeNull();
  });

  it('checkpointKeepsRetries: an attempt that stored a checkpoint does not use up a retry; without it, it does', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const jobs = app.get(JobsService);
    const keeps = await jobs.enqueue(LongJobs, 'keeps', {});
    const counts = await jobs.enqueue(LongJobs, 'counts', {});
    const kept = await waitForStatus(db, keeps, 'completed', {
      timeoutMs: 20_000,
    });
    expect(probe.resumedFrom).toEqual([0, 1, 2, 3]);
    expect(kept.attempts).toBe(4);
    expect(kept.max_retries).toBe(3);
    const counted = await waitForStatus(db, counts, 'failed');
    expect(counted.attempts).toBe(1);
    expect(counted.max_retries).toBe(0);
  });

  it('bad checkpoints: typed errors, nothing written', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app.get(JobsService).enqueue(LongJobs, 'bad', {});
    await waitForStatus(db, id, 'completed');
    expect(probe.refused).toHaveLength(7);
    for (const error of probe.refused.slice(0, 5))
      expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((probe.refused[4] as Error).message).toContain('(ctx.checkpoint)');
    expect(probe.refused[5]).toBeInstanceOf(InvalidJobTransactionError);
    expect(probe.refused[6]).toBeInstanceOf(InvalidJobTransactionError);
    const [row] = await db.query(
      'SELECT checkpoint FROM nest_jobs WHERE id = $1',
      [id],
    );
    expect(row.checkpoint).toBeNull();
    // After the handler returned.
    await expect(probe.context!.checkpoint(1)).rejects.toThrow(
      /after the handler returned/,
    );
  });

  it('a checkpoint of an attempt that lost its job is refused (AttemptNotHeldError), nothing written', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app.get(JobsService).enqueue(LongJobs, 'fenced', {});
    await probe.started.opened;
    await updateJobRow(db, id, { attempts: 3 });
    probe.gate.open();
    await probe.ended.opened;
    expect(probe.refused[0]).toBeInstanceOf(AttemptNotHeldError);
    const [row] = await db.query(
      'SELECT checkpoint FROM nest_jobs WHERE id = $1',
      [id],
    );
    expect(row.checkpoint).toBeNull();
  });

  it('a rescheduled job starts afresh, without its checkpoint', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app.get(JobsService).enqueue(LongJobs, 'afresh', {});
    await waitFor('the second run', () =>
      probe.resumedFrom.length === 2 ? true : undefined,
    );
    await waitForStatus(db, id, 'completed');
    expect(probe.resumedFrom).toEqual([undefined, undefined]);
    expect((await jobRow(db, id))!.attempts).toBe(1);
  });
});
