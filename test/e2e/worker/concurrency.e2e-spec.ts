import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { connectionsOf, waitForListener } from '../../support/backends.js';
import { Gate } from '../../support/gate.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRows } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Handlers in flight now and at most, in all and per queue, across every app that shares it. */
class InFlight {
  now = 0;
  max = 0;
  readonly nowPerQueue = new Map<string, number>();
  readonly maxPerQueue = new Map<string, number>();
  readonly executions: Array<{ id: string; attempt: number; by: string }> = [];

  async track(ctx: JobContext, by: string, ms: number) {
    this.executions.push({ id: ctx.id, attempt: ctx.attempt, by });
    this.now += 1;
    this.max = Math.max(this.max, this.now);
    const queue = (this.nowPerQueue.get(ctx.queue) ?? 0) + 1;
    this.nowPerQueue.set(ctx.queue, queue);
    this.maxPerQueue.set(
      ctx.queue,
      Math.max(this.maxPerQueue.get(ctx.queue) ?? 0, queue),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      this.now -= 1;
      this.nowPerQueue.set(ctx.queue, this.nowPerQueue.get(ctx.queue)! - 1);
    }
  }
}

const INSTANCE = Symbol('instance name');

@Injectable()
class SlowHandlers {
  constructor(
    @Inject(InFlight) private readonly inFlight: InFlight,
    @Inject(INSTANCE) private readonly instance: string,
  ) {}

  @Job({ name: 'slow.bulk', queue: 'bulk' })
  bulk(payload: { ms: number }, ctx: JobContext) {
    return this.inFlight.track(ctx, this.instance, payload.ms);
  }

  @Job({ name: 'slow.capped', queue: 'capped' })
  capped(payload: { ms: number }, ctx: JobContext) {
    return this.inFlight.track(ctx, this.instance, payload.ms);
  }
}

/** Handlers that wait for the test to open the gate, counting themselves. */
@Injectable()
class GatedHandlers {
  running = 0;
  maxRunning = 0;
  readonly ran: string[] = [];

  constructor(@Inject(Gate) private readonly gate: Gate) {}

  @Job({ name: 'gated.run', queue: 'gated' })
  async run(_payload: Record<string, never>, ctx: JobContext) {
    this.ran.push(ctx.id);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate.opened;
    } finally {
      this.running -= 1;
    }
  }
}

describe('worker: concurrency', () => {
  const suite = useJobsSuite('worker_concurrency', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;

  const start = (
    inFlight: InFlight,
    instance: string,
    worker: Record<string, unknown>,
    poolSize?: number,
  ) =>
    suite.app({
      poolSize,
      providers: [
        SlowHandlers,
        { provide: InFlight, useValue: inFlight },
        { provide: INSTANCE, useValue: instance },
      ],
      jobs: { worker: { pollIntervalMs: 50, ...worker } },
    });

  const allCompleted = (count: number) =>
    waitFor(
      `${count} jobs to complete`,
      async () => {
        const rows = await jobRows(db, `status <> 'completed'`);
        return rows.length === 0 ? true : undefined;
      },
      { timeoutMs: 20_000 },
    ).then(async () => expect(await jobRows(db)).toHaveLength(count));

  it('never runs more than concurrency (nor a queue more than its cap), and uses the whole limit', async () => {
    const inFlight = new InFlight();
    const app = await start(inFlight, 'only', {
      concurrency: 3,
      queueConcurrency: { capped: 1 },
      // Batches larger than the free slots: a claim must still take no more than fit.
      batchSize: 10,
    });
    const jobs = app.get(JobsService);
    await jobs.enqueueMany([
      ...Array.from({ length: 15 }, () => ({
        name: 'slow.capped',
        payload: { ms: 30 },
      })),
      ...Array.from({ length: 15 }, () => ({
        name: 'slow.bulk',
        payload: { ms: 30 },
      })),
    ]);
    await allCompleted(30);
    expect(inFlight.executions).toHaveLength(30);
    expect(inFlight.max).toBe(3);
    expect(inFlight.maxPerQueue.get('capped')).toBe(1);
    expect(inFlight.maxPerQueue.get('bulk')).toBeLessThanOrEqual(3);
    await app.close();
  });

  it('two instances on one table run each of 200 jobs exactly once, and both do work', async () => {
    const inFlight = new InFlight();
    const a = await start(inFlight, 'a', { concurrency: 5 });
    const b = await start(inFlight, 'b', { concurrency: 5 });
    await waitForListener(db, a);
    await waitForListener(db, b);

    const payloads = Array.from({ length: 100 }, () => ({ ms: 20 }));
    const ids = [
      ...(await a.get(JobsService).enqueueMany(SlowHandlers, 'bulk', payloads)),
      ...(await b
        .get(JobsService)
        .enqueueMany(SlowHandlers, 'capped', payloads)),
    ];
    await allCompleted(200);

    const rows = await jobRows(db);
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
    expect(inFlight.executions).toHaveLength(200);
    expect(new Set(inFlight.executions.map((e) => e.id))).toEqual(new Set(ids));
    const by = (instance: string) =>
      inFlight.executions.filter((e) => e.by === instance).length;
    expect(by('a')).toBeGreaterThan(0);
    expect(by('b')).toBeGreaterThan(0);
    expect(inFlight.max).toBeLessThanOrEqual(10);
    await a.close();
    await b.close();
  });

  it('works on connections of its own: an exhausted application pool does not stop it, and worker.connections caps them', async () => {
    const inFlight = new InFlight();
    const app = await start(inFlight, 'worker', { connections: 1 }, 1);
    await waitForListener(db, app);
    // The application's only pooled connection stays busy in an open transaction, as a
    // request handler's long transaction would keep it.
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const producer = await start(new InFlight(), 'producer', {
        enabled: false,
      });
      await producer.get(JobsService).enqueueMany(
        'slow.bulk',
        Array.from({ length: 30 }, () => ({ ms: 20 })),
      );
      let workerConnections = 0;
      await waitFor(
        '30 jobs to complete',
        async () => {
          const backends = await connectionsOf(db, app.applicationName);
          workerConnections = Math.max(
            workerConnections,
            backends.filter((b) => b.application_name.endsWith('(worker)'))
              .length,
          );
          const rows = await jobRows(db, `status <> 'completed'`);
          return rows.length === 0 ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(inFlight.executions).toHaveLength(30);
      expect(workerConnections).toBe(1);
      await producer.close();
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    await app.close();
  });

  it('claims a backlog with two claims at once when the slots hold two batches, never beyond its slots', async () => {
    const gate = new Gate();
    const app = await suite.app({
      providers: [GatedHandlers, { provide: Gate, useValue: gate }],
      jobs: {
        worker: {
          pollIntervalMs: 50,
          concurrency: 6,
          batchSize: 2,
          connections: 3,
        },
      },
    });
    const handlers = app.get(GatedHandlers);
    await app.get(JobsService).enqueueMany(
      'gated.run',
      Array.from({ length: 20 }, () => ({})),
    );
    await waitFor('6 handlers waiting at the gate', async () =>
      handlers.running === 6 ? true : undefined,
    );
    // The backlog is known (every claim came back full). Hold the table so that the
    // claims sent when the slots free up wait where pg_stat_activity shows them.
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`LOCK TABLE nest_jobs IN EXCLUSIVE MODE`);
      gate.open();
      const claimsWaiting = await waitFor(
        'claims waiting on the table lock',
        async () => {
          const backends = await db.query<Record<string, unknown>>(
            `SELECT pid, backend_start, query_start, state, wait_event
             FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1
               AND query LIKE '/* nest-jobs:claim */%' AND wait_event_type = 'Lock'`,
            [`${app.applicationName} (worker)`],
          );
          return backends.length >= 2 ? backends : undefined;
        },
      );
      // Two full batches fit in six free slots; a third claim would leave no connection
      // for outcome writes (connections - 1 claims at most). (The backends are part of
      // the expectation so that a failure shows them.)
      expect({ claims: claimsWaiting.length, claimsWaiting }).toMatchObject({
        claims: 2,
      });
    } finally {
      await runner.commitTransaction();
      await runner.release();
    }
    await allCompleted(20);
    expect(handlers.ran).toHaveLength(20);
    expect(new Set(handlers.ran).size).toBe(20);
    expect(handlers.maxRunning).toBe(6);
    await app.close();
  });
});
