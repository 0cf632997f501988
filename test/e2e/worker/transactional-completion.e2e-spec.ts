import { beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  AttemptNotHeldError,
  InvalidJobTransactionError,
  Job,
  JobsService,
  TransactionNotCommittedError,
  type JobContext,
  type TransactionalJobContext,
} from 'nest-jobs';
import { DataSource, type EntityManager } from 'typeorm';
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
  ended = new Gate();
  /** What ctx.complete threw, per attempt, or 'ok'. */
  results: unknown[] = [];
  context: JobContext | undefined;
  /** Set by a test: a manager to hand to ctx.complete instead of the handler's own. */
  manager: (() => Promise<unknown>) | undefined;
}

const Q = 'txc';

/** The business write of a job: one ledger row per committed execution. */
const LEDGER = `INSERT INTO ledger (job_id, note) VALUES ($1, $2)`;

@Injectable()
class CompletingHandlers {
  constructor(
    @Inject(Probe) private readonly probe: Probe,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  /** Writes its ledger row and completes the job in its own transaction. */
  @Job({ name: 'txc.own', queue: Q, maxRetries: 0 })
  async own(payload: { wait?: boolean; swallow?: boolean }, ctx: JobContext) {
    this.probe.context = ctx;
    try {
      await this.ownTransaction(payload, ctx);
    } finally {
      this.probe.ended.open();
    }
  }

  private async ownTransaction(
    payload: { wait?: boolean; swallow?: boolean },
    ctx: JobContext,
  ) {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(LEDGER, [ctx.id, 'own']);
      if (payload.wait) {
        this.probe.started.open();
        await this.probe.gate.opened;
      }
      try {
        await ctx.complete({ manager });
        this.probe.results.push('ok');
      } catch (error) {
        this.probe.results.push(error);
        if (!payload.swallow) throw error;
      }
    });
  }

  /** Completes early in its transaction, then holds it open (row locked) until the gate. */
  @Job({ name: 'txc.hold', queue: Q, maxRetries: 0 })
  async hold(_payload: object, ctx: JobContext) {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(LEDGER, [ctx.id, 'hold']);
      await ctx.complete({ manager });
      this.probe.started.open();
      await this.probe.gate.opened;
    });
  }

  /** Completes in a transaction that then rolls back, and returns normally. */
  @Job({ name: 'txc.rollback', queue: Q, maxRetries: 0 })
  async rollback(_payload: object, ctx: JobContext) {
    await this.dataSource
      .transaction(async (manager) => {
        await manager.query(LEDGER, [ctx.id, 'rollback']);
        await ctx.complete({ manager });
        throw new Error('business rule refused after completing');
      })
      .catch(() => undefined);
  }

  /** Calls ctx.complete in every way it must refuse, then completes properly. */
  @Job({ name: 'txc.misuse', queue: Q, maxRetries: 0 })
  async misuse(_payload: object, ctx: JobContext) {
    this.probe.context = ctx;
    const attempts: Array<() => Promise<unknown>> = [
      () => ctx.complete(undefined as never),
      () => ctx.complete({} as never),
      () => ctx.complete({ manager: 5 } as never),
      () =>
        ctx.complete({
          manager: new Proxy(
            {},
            {
              get() {
                throw new Error('hostile getter');
              },
            },
          ),
        } as never),
      // A manager outside any transaction.
      () => ctx.complete({ manager: this.dataSource.manager }),
      // A manager whose transaction already ended.
      async () => {
        let finished: EntityManager | undefined;
        await this.dataSource.transaction(async (m) => {
          finished = m;
        });
        return ctx.complete({ manager: finished! });
      },
      // A manager of another DataSource (same database, other pool).
      async () => this.probe.manager!(),
    ];
    for (const attempt of attempts) {
      try {
        await attempt();
        this.probe.results.push('accepted');
      } catch (error) {
        this.probe.results.push(error);
      }
    }
    await this.dataSource.transaction(async (manager) => {
      await manager.query(LEDGER, [ctx.id, 'misuse']);
      await ctx.complete({ manager });
      try {
        await ctx.complete({ manager });
        this.probe.results.push('accepted');
      } catch (error) {
        this.probe.results.push(error);
      }
    });
  }

  /** nest-jobs opens the transaction; the handler writes through ctx.manager. */
  @Job({ name: 'txc.wrapped', queue: Q, transactional: true, maxRetries: 1 })
  async wrapped(
    payload: { fail?: boolean; wait?: boolean },
    ctx: TransactionalJobContext,
  ) {
    await ctx.manager.query(LEDGER, [ctx.id, `wrapped ${ctx.attempt}`]);
    if (payload.wait) {
      this.probe.started.open();
      await this.probe.gate.opened;
    }
    if (payload.fail && ctx.attempt === 1)
      throw new Error('first attempt fails');
  }

  /** Records that it started; writes through ctx.manager. */
  @Job({ name: 'txc.counted', queue: Q, transactional: true, maxRetries: 0 })
  async counted(_payload: object, ctx: TransactionalJobContext) {
    this.probe.results.push('started');
    await ctx.manager.query(LEDGER, [ctx.id, 'counted']);
  }

  /** Holds its transaction open past its bound. */
  @Job({
    name: 'txc.slow',
    queue: Q,
    transactional: true,
    transactionTimeoutMs: 300,
    maxRetries: 0,
  })
  async slow(_payload: object, ctx: TransactionalJobContext) {
    await ctx.manager.query(LEDGER, [ctx.id, 'slow']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }

  /** Writes, then never settles, whatever its signal says: only its timeout ends it. */
  @Job({
    name: 'txc.hang',
    queue: Q,
    transactional: true,
    timeoutMs: 300,
    maxRetries: 0,
  })
  async hang(_payload: object, ctx: TransactionalJobContext) {
    await ctx.manager.query(LEDGER, [ctx.id, 'hang']);
    await new Promise<never>(() => undefined);
  }

  /** Reports progress, then completes in its own transaction at once. */
  @Job({ name: 'txc.progress', queue: Q, maxRetries: 0 })
  async progress(_payload: object, ctx: JobContext) {
    ctx.progress({ step: 1 });
    ctx.progress({ step: 2, of: 2 });
    await this.dataSource.transaction(async (manager) => {
      await manager.query(LEDGER, [ctx.id, 'progress']);
      await ctx.complete({ manager });
    });
  }

  /** Reports progress; nest-jobs completes it in the transaction it opened. */
  @Job({
    name: 'txc.wrappedProgress',
    queue: Q,
    transactional: true,
    maxRetries: 0,
  })
  async wrappedProgress(_payload: object, ctx: TransactionalJobContext) {
    await ctx.manager.query(LEDGER, [ctx.id, 'wrapped progress']);
    ctx.progress(0.5);
    ctx.progress(1);
  }

  /** A plain long job beside them: its lease must keep being renewed. */
  @Job({ name: 'txc.plain', queue: Q })
  async plain(_payload: object, ctx: JobContext) {
    this.probe.context = ctx;
    await this.probe.gate.opened;
  }
}

describe('worker: transactional completion', () => {
  const suite = useJobsSuite('worker_txc', { clearJobsAfterEach: true });
  const { db } = suite;

  beforeAll(async () => {
    await db.query('CREATE TABLE ledger (job_id uuid NOT NULL, note text)');
  });

  const ledger = async (id: string) =>
    (
      await db.query<{ note: string }>(
        'SELECT note FROM ledger WHERE job_id = $1 ORDER BY note',
        [id],
      )
    ).map((row) => row.note);

  const start = (probe: Probe, worker: object = {}) =>
    suite.app({
      providers: [
        EventLog,
        CompletingHandlers,
        { provide: Probe, useValue: probe },
      ],
      jobs: { worker: { pollIntervalMs: 50, ...worker } },
    });

  it('ctx.complete: the business row and the completion commit together', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'own', {});
    const row = await waitForStatus(db, id, 'completed');
    expect(row.finished_at).not.toBeNull();
    expect(await ledger(id)).toEqual(['own']);
    expect(probe.results).toEqual(['ok']);
    await waitFor('job.completed', () =>
      app.get(EventLog).of('job.completed').length === 1 ? true : undefined,
    );
  });

  it('progress reported just before a completion in the transaction is stored with it', async () => {
    const probe = new Probe();
    // No progress write can happen on its own before the completion commits.
    const app = await start(probe, { progressIntervalMs: 60_000 });
    const jobs = app.get(JobsService);
    const own = await jobs.enqueue(CompletingHandlers, 'progress', {});
    const wrapped = await jobs.enqueue(
      CompletingHandlers,
      'wrappedProgress',
      {},
    );
    expect((await waitForStatus(db, own, 'completed')).progress).toEqual({
      step: 2,
      of: 2,
    });
    expect((await waitForStatus(db, wrapped, 'completed')).progress).toBe(1);
    expect(await ledger(own)).toEqual(['progress']);
    expect(await ledger(wrapped)).toEqual(['wrapped progress']);
  });

  it('ctx.complete fenced out (the attempt lost its job): typed error, the transaction cannot commit even if the error is swallowed', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'own', { wait: true, swallow: true });
    await probe.started.opened;
    // Another worker rescued and claimed it meanwhile: a newer attempt holds the row.
    await updateJobRow(db, id, { attempts: 2 });
    probe.gate.open();
    await waitFor('the completion to be refused', () =>
      probe.results.length > 0 ? true : undefined,
    );
    expect(probe.results[0]).toBeInstanceOf(AttemptNotHeldError);
    await probe.ended.opened;
    // The handler committed after swallowing the error: PostgreSQL rolled back instead.
    expect(await ledger(id)).toEqual([]);
    const row = (await jobRow(db, id))!;
    expect(row.status).toBe('running');
    expect(row.attempts).toBe(2);
  });

  it('a transaction that rolled back after ctx.complete fails the attempt (TransactionNotCommittedError), nothing written', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'rollback', {});
    const row = await waitForStatus(db, id, 'failed');
    expect(row.last_error).toContain('TransactionNotCommittedError');
    expect(await ledger(id)).toEqual([]);
    const [failed] = app.get(EventLog).of('job.failed');
    expect(failed!.error).toBeInstanceOf(TransactionNotCommittedError);
  });

  it('bad input to ctx.complete: typed errors and nothing written; twice and after return are refused', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const other = await new DataSource({
      type: 'postgres',
      url: db.url,
      applicationName: 'txc-other-data-source',
    }).initialize();
    try {
      probe.manager = () =>
        other.transaction((manager) => probe.context!.complete({ manager }));
      const id = await app
        .get(JobsService)
        .enqueue(CompletingHandlers, 'misuse', {});
      await waitForStatus(db, id, 'completed');
      expect(probe.results).toHaveLength(8);
      for (const result of probe.results)
        expect(result).toBeInstanceOf(InvalidJobTransactionError);
      const messages = probe.results.map((e) => (e as Error).message);
      expect(messages[0]).toContain('expected { manager }');
      expect(messages[2]).toContain('not an EntityManager');
      expect(messages[3]).toContain('hostile getter');
      expect(messages[4]).toContain('not in an open transaction');
      expect(messages[5]).toContain('not in an open transaction');
      expect(messages[6]).toContain('another DataSource');
      expect(messages[7]).toContain('called twice');
      expect(await ledger(id)).toEqual(['misuse']);
      // After the handler returned.
      await expect(
        other.transaction((manager) => probe.context!.complete({ manager })),
      ).rejects.toThrow(/after the handler returned/);
    } finally {
      await other.destroy();
    }
  });

  it('@Job({ transactional }): writes through ctx.manager commit with the completion; a throw rolls them back', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const jobs = app.get(JobsService);
    const ok = await jobs.enqueue(CompletingHandlers, 'wrapped', {});
    const retried = await jobs.enqueue(CompletingHandlers, 'wrapped', {
      fail: true,
    });
    await waitForStatus(db, ok, 'completed');
    const row = await waitForStatus(db, retried, 'completed');
    expect(row.attempts).toBe(2);
    expect(await ledger(ok)).toEqual(['wrapped 1']);
    // The failed first attempt's write vanished with its transaction.
    expect(await ledger(retried)).toEqual(['wrapped 2']);
    await waitFor('both job.completed', () =>
      app.get(EventLog).of('job.completed').length === 2 ? true : undefined,
    );
  });

  it('@Job({ transactional }) whose attempt lost its job: rolled back, nothing written', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'wrapped', { wait: true });
    await probe.started.opened;
    await updateJobRow(db, id, { releases: 5 });
    probe.gate.open();
    await waitFor('the refused completion to be reported', () =>
      app.get(EventLog).of('job.retried').length +
        app.get(EventLog).of('job.failed').length >
      0
        ? true
        : undefined,
    );
    const [reported] = [
      ...app.get(EventLog).of('job.retried'),
      ...app.get(EventLog).of('job.failed'),
    ];
    expect(reported!.error).toBeInstanceOf(AttemptNotHeldError);
    expect(await ledger(id)).toEqual([]);
    expect((await jobRow(db, id))!.status).toBe('running');
  });

  it('the heartbeat never waits on the row lock of a completing transaction held open past several heartbeats', async () => {
    const probe = new Probe();
    const app = await start(probe, {
      leaseMs: 1_500,
      heartbeatIntervalMs: 200,
    });
    const jobs = app.get(JobsService);
    const plain = await jobs.enqueue(CompletingHandlers, 'plain', {});
    const held = await jobs.enqueue(CompletingHandlers, 'hold', {});
    await probe.started.opened;
    await waitForStatus(db, plain, 'running');
    const first = (await jobRow(db, plain))!.locked_until!.getTime();
    // While `held`'s row stays locked for several leases, the plain job's lease moves on.
    await waitFor(
      'the plain lease to be renewed three leases later',
      async () =>
        (await jobRow(db, plain))!.locked_until!.getTime() > first + 4_000
          ? true
          : undefined,
      { timeoutMs: 20_000 },
    );
    expect(app.get(EventLog).of('job.lease-lost')).toEqual([]);
    probe.gate.open();
    await waitForStatus(db, held, 'completed');
    await waitForStatus(db, plain, 'completed');
    expect(await ledger(held)).toEqual(['hold']);
    expect(app.get(EventLog).of('job.lease-lost')).toEqual([]);
  });

  it('a transactional handler that hangs past its timeout: rolled back and its connection returned at once, the app closes', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'hang', {});
    const row = await waitForStatus(db, id, 'failed');
    expect(row.last_error).toContain('JobTimeoutError');
    // Not left idle in its transaction until the bound: rolled back when the attempt ended.
    await waitFor('no transaction left open', async () => {
      const open = await db.query(
        `SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
      );
      return open.length === 0 ? true : undefined;
    });
    expect(await ledger(id)).toEqual([]);
    await app.close();
  });

  it('a shutdown releases a transactional handler still running: rolled back, pending again, the app closes', async () => {
    const probe = new Probe();
    const app = await start(probe, { shutdownTimeoutMs: 200 });
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'wrapped', { wait: true });
    await probe.started.opened;
    await app.close();
    const row = (await jobRow(db, id))!;
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(0);
    expect(await ledger(id)).toEqual([]);
    probe.gate.open();
  });

  it('an attempt cancelled while its transaction is being opened: the handler never starts, nothing written', async () => {
    const probe = new Probe();
    const app = await suite.app({
      // The application's only pooled connection, held below: the attempt's transaction
      // waits for it.
      poolSize: 1,
      providers: [
        EventLog,
        CompletingHandlers,
        { provide: Probe, useValue: probe },
      ],
      jobs: { worker: { pollIntervalMs: 50 } },
    });
    const jobs = app.get(JobsService);
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    let id: string;
    try {
      await runner.startTransaction();
      id = await jobs.enqueue(
        CompletingHandlers,
        'counted',
        {},
        { manager: runner.manager },
      );
      await runner.commitTransaction();
      await waitForStatus(db, id, 'running');
      // Cancelled while its transaction waits for a connection (the NOTIFY aborts it).
      await runner.startTransaction();
      await jobs.cancel(id, { manager: runner.manager });
      await runner.commitTransaction();
      await waitFor('the attempt to end cancelled', () =>
        app.get(EventLog).of('job.cancelled').length > 0 ? true : undefined,
      );
    } finally {
      await runner.release();
    }
    // The connection is free now: the transaction opens, sees the abort, and ends.
    await waitFor('the pool connection to be back', async () =>
      (await app.get(DataSource).query('SELECT 1')).length === 1
        ? true
        : undefined,
    );
    expect(probe.results).toEqual([]);
    expect(await ledger(id)).toEqual([]);
    expect((await jobRow(db, id))!.status).toBe('cancelled');
  });

  it('a transaction past transactionTimeoutMs is ended by PostgreSQL: rolled back, the attempt fails', async () => {
    const probe = new Probe();
    const app = await start(probe);
    const id = await app
      .get(JobsService)
      .enqueue(CompletingHandlers, 'slow', {});
    const row = await waitForStatus(db, id, 'failed', { timeoutMs: 20_000 });
    expect(row.last_error).toMatch(/timeout|terminat|Connection/i);
    expect(await ledger(id)).toEqual([]);
  });
});
