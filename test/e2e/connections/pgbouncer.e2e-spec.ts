import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
} from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import {
  Job,
  JobsService,
  JobsWorkerStatus,
  type JobContext,
  type JobsModuleOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { createJobsApp, type JobsApp } from '../../support/jobs-app.js';
import {
  dbNow,
  insertJobRow,
  jobRow,
  waitForStatus,
} from '../../support/jobs-table.js';
import {
  findPgBouncer,
  startPgBouncer,
  type PgBouncer,
} from '../../support/pgbouncer.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/** Every handler run of the file, across apps: duplicates and losses are counted here. */
const runs: string[] = [];

@Injectable()
class BouncedJobs {
  @Job({ name: 'bounced.noop', queue: 'bounced' })
  async noop(_payload: object, ctx: JobContext) {
    runs.push(ctx.id);
  }

  @Job({ name: 'bounced.flaky', queue: 'bounced', retry: { baseMs: 100 } })
  async flaky(_payload: object, ctx: JobContext) {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    runs.push(ctx.id);
  }

  @Job({ name: 'bounced.slow', queue: 'bounced' })
  async slow(_payload: object, ctx: JobContext) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    runs.push(ctx.id);
  }
}

const binary = findPgBouncer();
if (!binary)
  console.warn(
    'SKIPPED test/e2e/connections/pgbouncer.e2e-spec.ts: no pgbouncer binary (apt-get install -y pgbouncer; .ci/run installs it)',
  );
const describeBehindBouncer = binary ? describe : describe.skip;

/** The bound the manual states for poll-only wake-ups: one poll interval plus a claim. */
const POLL_MS = 200;

describeBehindBouncer('behind a real PgBouncer in transaction mode', () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let counter = 0;
  const open: JobsApp[] = [];

  /** An app whose DataSource goes through PgBouncer (and whose worker, by default, too). */
  const start = async (
    jobs: JobsModuleOptions = {},
    { poolSize }: { poolSize?: number } = {},
  ) => {
    const app = await createJobsApp(db, {
      url: bouncer.urlOf(db.url),
      applicationName: `bouncer-${++counter}`,
      providers: [BouncedJobs],
      ...(poolSize === undefined ? {} : { poolSize }),
      jobs: {
        runMigrations: true,
        ...jobs,
        worker: {
          pollIntervalMs: POLL_MS,
          recoveryIntervalMs: 200,
          ...jobs.worker,
        },
        database: { listenCheckMs: 1_000, ...jobs.database },
      },
    });
    open.push(app);
    return app;
  };
  const producer = () => start({ worker: { enabled: false } });
  const close = async (app: JobsApp) => {
    open.splice(open.indexOf(app), 1);
    await app.close();
  };
  const warnings = (app: JobsApp, text: string) =>
    app.logger.messages('warn').filter((line) => line.includes(text));
  const completed = async (ids: readonly string[]) =>
    Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM nest_jobs WHERE id = ANY($1) AND status = 'completed'`,
          [ids],
        )
      )[0].n,
    );
  const expectRunOnce = (ids: readonly string[]) => {
    const seen = runs.filter((id) => ids.includes(id));
    expect(seen.length).toBe(ids.length);
    expect(new Set(seen).size).toBe(ids.length);
  };

  beforeAll(async () => {
    db = await createTestDatabase('pgbouncer');
    bouncer = await startPgBouncer(binary!, process.env.DATABASE_URL!);
  });
  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
    await db.query('DELETE FROM nest_jobs');
  });
  afterAll(async () => {
    await bouncer?.stop();
    await db?.drop();
  });

  it('starts, restarts and starts a second instance beside a running one: the pooler is found, no statement collides', async () => {
    for (let restart = 0; restart < 5; restart += 1) {
      const app = await start();
      expect(warnings(app, 'Start-up found a transaction pooler')).toHaveLength(
        1,
      );
      await close(app);
    }
    const first = await start();
    const second = await start();
    for (const app of [first, second]) {
      expect(app.get(JobsWorkerStatus).snapshot().state).toBe('running');
      expect(warnings(app, 'collided')).toEqual([]);
    }
  });

  it('pooled, enqueueMany and transactional enqueues run exactly once, claimed by two instances: lost 0, duplicates 0', async () => {
    await start();
    await start();
    const app = await producer();
    const jobs = app.get(JobsService);
    const ids: string[] = [];
    for (let i = 0; i < 100; i += 1)
      ids.push(await jobs.enqueue('bounced.noop', { i }));
    for (let batch = 0; batch < 20; batch += 1)
      ids.push(
        ...(await jobs.enqueueMany(
          'bounced.noop',
          Array.from({ length: 10 }, (_, i) => ({ batch, i })),
        )),
      );
    for (let i = 0; i < 20; i += 1)
      ids.push(
        await app
          .get(DataSource)
          .transaction((manager) =>
            jobs.enqueue('bounced.noop', { i }, { manager }),
          ),
      );
    await waitFor(
      'every job completed',
      async () => (await completed(ids)) === ids.length,
      { timeoutMs: 30_000 },
    );
    expectRunOnce(ids);
    for (const instance of open)
      expect(warnings(instance, 'collided')).toEqual([]);
  });

  it('retries a failed attempt', async () => {
    const app = await start();
    const id = await app.get(JobsService).enqueue('bounced.flaky', {});
    await waitForStatus(db, id, 'completed', { timeoutMs: 10_000 });
    expect((await jobRow(db, id))?.attempts).toBe(2);
    expectRunOnce([id]);
  });

  it('rescues the job of a worker that died (its row left running) once the lease expired, and runs it once', async () => {
    await producer();
    // What a worker killed with SIGKILL leaves: a running row whose lease nobody renews.
    const { id } = await insertJobRow(db, {
      job_type: 'bounced.noop',
      queue: 'bounced',
      status: 'running',
      attempts: 1,
      started_at: dbNow('-1 s'),
      locked_until: dbNow('+1 s'),
    });
    await start({ worker: { leaseMs: 2_000 } });
    await waitForStatus(db, id, 'completed', { timeoutMs: 10_000 });
    expect((await jobRow(db, id))?.attempts).toBe(2);
    expectRunOnce([id]);
  });

  it('a worker killed with SIGKILL: its job comes back once the lease expires and runs once more, to completion', async () => {
    const leaseMs = 2_000;
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(
          new URL(
            '../fixtures/worker-killed-behind-pooler.mjs',
            import.meta.url,
          ),
        ),
        bouncer.urlOf(db.url),
        'bouncer-killed',
        String(leaseMs),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let id: string;
    try {
      id = await waitFor(
        'the child worker to run its job',
        () => /running (\S+)/.exec(output)?.[1],
        { timeoutMs: 20_000 },
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const killedAt = Date.now();
    await start({ worker: { leaseMs } });
    await waitForStatus(db, id, 'completed', { timeoutMs: 5 * leaseMs });
    console.log(
      `behind PgBouncer: a SIGKILLed worker's job completed again ${Date.now() - killedAt} ms after the kill (lease ${leaseMs} ms, sweep every 200 ms)`,
    );
    expect((await jobRow(db, id))?.attempts).toBe(2);
    expectRunOnce([id]);
  });

  it('shuts down through the pooler: the running job finishes and is written', async () => {
    const app = await start();
    const id = await app.get(JobsService).enqueue('bounced.slow', {});
    await waitForStatus(db, id, 'running');
    await close(app);
    expect((await jobRow(db, id))?.status).toBe('completed');
    expectRunOnce([id]);
  });

  it('LISTEN through the pooler: one warning, then polls only; other processes’ jobs start within a poll', async () => {
    const worker = await start();
    await waitFor(
      'the LISTEN check to fail',
      () => warnings(worker, 'LISTEN delivered no notification').length === 1,
    );
    expect(worker.get(JobsWorkerStatus).snapshot().listening).toBe(false);
    const jobs = (await producer()).get(JobsService);
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const id = await jobs.enqueue('bounced.noop', { i });
      ids.push(id);
      await waitForStatus(db, id, 'completed', { timeoutMs: 10_000 });
    }
    const [latency] = await db.query(
      `SELECT max(started_at - created_at) AS max FROM nest_jobs WHERE id = ANY($1)`,
      [ids],
    );
    console.log(
      `poll-only behind PgBouncer (poll ${POLL_MS} ms): enqueue-to-start at most ${JSON.stringify(latency.max)}`,
    );
    expectRunOnce(ids);
    // The process's own enqueues do not wait for the poll.
    const own = await worker.get(JobsService).enqueue('bounced.noop', {});
    await waitForStatus(db, own, 'completed');
    expect(warnings(worker, 'LISTEN delivered')).toHaveLength(1);
  });

  it("database.wakeUps: 'poll' opens no LISTEN connection and warns of nothing", async () => {
    const worker = await start({ database: { wakeUps: 'poll' } });
    const id = await (
      await producer()
    )
      .get(JobsService)
      .enqueue('bounced.noop', {});
    await waitForStatus(db, id, 'completed', { timeoutMs: 10_000 });
    expect(worker.get(JobsWorkerStatus).snapshot().listening).toBe(false);
    expect(warnings(worker, 'LISTEN')).toEqual([]);
  });

  it('with the LISTEN connection direct (database.directUrl), other processes’ pooled and transactional enqueues wake the worker through LISTEN', async () => {
    // Polls and sweeps far apart: a job that starts within the deadline was woken by a NOTIFY.
    const worker = await start({
      worker: { pollIntervalMs: 120_000, recoveryIntervalMs: 120_000 },
      database: { directUrl: db.url },
    });
    await waitFor(
      'the LISTEN connection',
      () => worker.get(JobsWorkerStatus).snapshot().listening,
    );
    const app = await producer();
    const jobs = app.get(JobsService);
    const pooled = await jobs.enqueue('bounced.noop', {});
    await waitForStatus(db, pooled, 'completed', { timeoutMs: 10_000 });
    const transactional = await app
      .get(DataSource)
      .transaction((manager) => jobs.enqueue('bounced.noop', {}, { manager }));
    await waitForStatus(db, transactional, 'completed', { timeoutMs: 10_000 });
    expect(warnings(worker, 'LISTEN delivered')).toEqual([]);
    expectRunOnce([pooled, transactional]);
  });

  it('with the worker pool direct too, { manager } of the app’s DataSource (through the pooler) still enqueues in its transaction', async () => {
    const app = await start({
      database: { directUrl: db.url, directWorkerPool: true },
    });
    const jobs = app.get(JobsService);
    const kept = await app
      .get(DataSource)
      .transaction((manager) => jobs.enqueue('bounced.noop', {}, { manager }));
    const rolledBack = app.get(DataSource).transaction(async (manager) => {
      await jobs.enqueue('bounced.noop', { lost: true }, { manager });
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    await waitForStatus(db, kept, 'completed', { timeoutMs: 10_000 });
    expect(
      await db.query(
        `SELECT id FROM nest_jobs WHERE payload->>'lost' = 'true'`,
      ),
    ).toEqual([]);
    expectRunOnce([kept]);
  });
});
