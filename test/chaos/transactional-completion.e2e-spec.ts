import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { BUSINESS_DDL, JOB, STEPS_DDL } from './fixture/protocol.js';
import {
  CHAOS_WORKER,
  ChaosRun,
  expectCleanExits,
  terminate,
} from './harness/chaos-run.js';
import { RestartableServer } from './harness/restartable-server.js';
import {
  chaosScale,
  random,
  scaled,
  scaledTimeout,
  sleep,
} from './harness/size.js';
import { Supervisor } from './harness/supervisor.js';

const BUSINESS_JOBS = [JOB.business, JOB.businessOwn];
const LONG_JOBS = 3;
const STEPS = 100;
const STEP_MS = 40;

/**
 * Chaos scenario 7: exactly-once effects. Each job writes one business row and its
 * completion in one transaction, in either form: `chaos.business` is `transactional` (the
 * transaction nest-jobs opens around it, the completion written last), `chaos.businessOwn`
 * opens its own and calls `ctx.complete`. Both work 20-120 ms inside the transaction and
 * ignore their AbortSignal, so an attempt that lost its job keeps going and tries to commit.
 * 3 supervised workers (restarted after every death) work a backlog while
 *  - every 300-700 ms the harness SIGKILLs a random live worker (transactions in flight die
 *    with their connections), or freezes one (SIGSTOP) past its lease: its jobs are
 *    rescued and run elsewhere, and when it wakes up its completions find the attempt gone
 *    (fenced), or, if it froze holding the job's row lock, PostgreSQL ends its transaction
 *    after `transactionTimeoutMs`;
 *  - once, the database itself crashes (immediate shutdown) and comes back.
 * At-least-once scenarios allow re-execution; this one allows none that commits: the
 * business table must hold exactly one row per job (and none for a job that does not
 * exist), while the ledger (written outside the transaction) shows the re-executions.
 */
describe('chaos 7: transactional completion, exactly one business row per job', () => {
  let server: RestartableServer | undefined;
  let run: ChaosRun;
  beforeAll(async () => {
    server = await RestartableServer.start();
    run = await ChaosRun.open('transactional-completion', {
      database: () => createTestDatabase('chaos_txc', server!.url),
      worker: { ...CHAOS_WORKER, transactionTimeoutMs: 1_500 },
    });
    await run.db.query(BUSINESS_DDL);
    await run.db.query(STEPS_DDL);
  }, 90_000);
  afterAll(async () => {
    try {
      await server?.up();
      await run?.close();
    } finally {
      await server?.destroy();
    }
  }, 60_000);

  it(
    'commits each job’s business write exactly once while workers are killed, frozen and the database crashes',
    async () => {
      const minJobs = scaled(300);
      const maxJobs = minJobs * 4;
      const rounds = Math.max(1, Math.round(Math.sqrt(chaosScale())));
      const chaosDeadline = Date.now() + scaledTimeout(40_000);
      const supervisor = new Supervisor(run.cluster, ['w1', 'w2', 'w3']);
      await supervisor.allReady();
      // Long checkpointed jobs (about 4 s of work each) that the chaos interrupts again and again.
      const longJobs: string[] = [];
      for (let i = 0; i < LONG_JOBS; i += 1)
        longJobs.push(await run.producer.enqueueSteps(STEPS, STEP_MS));

      let kills = 0;
      let crashed = false;
      const thaws: Promise<void>[] = [];
      const chaosDone = () => crashed && kills >= 5 * rounds;

      // Enqueues that failed during the outage may have committed anyway: found by seq.
      const failedSeqs: number[] = [];
      let produced = 0;
      const produce = async () => {
        while (
          run.active &&
          produced < maxJobs &&
          (produced < minJobs || !chaosDone())
        ) {
          const backlog = await run.db
            .query<{ n: string }>(
              `SELECT count(*) AS n FROM nest_jobs WHERE status = 'pending'`,
            )
            .then(([row]) => Number(row!.n))
            .catch(() => Infinity);
          if (backlog >= 150) {
            await sleep(30); // pacing, not waiting for an effect
            continue;
          }
          // Handlers that ignore their signal: an attempt that lost its job keeps going
          // and tries to commit; only the fence may stop it.
          const payloads = run.producer
            .workPayloads(random(10, 40), 20, 120)
            .map((payload) => ({ ...payload, ignoreAbort: true }));
          try {
            await run.producer.enqueueBusiness(
              payloads,
              Math.random() < 0.5 ? 'business' : 'businessOwn',
            );
            produced += payloads.length;
          } catch {
            failedSeqs.push(...payloads.map((p) => p.seq));
            await sleep(100); // pacing while the database is away
          }
        }
      };
      const production = run.spawnTask(produce());

      // The chaos, in a fixed order at random moments (larger runs repeat it).
      const plan: Array<'kill' | 'freeze' | 'crash'> = [];
      for (let round = 0; round < rounds; round += 1)
        plan.push('kill', 'freeze', 'kill', 'kill', 'freeze', 'kill', 'kill');
      plan.splice(3, 0, 'crash');
      for (const action of plan) {
        if (Date.now() > chaosDeadline)
          throw new Error(
            `chaos not done in time: ${kills} kills, ${thaws.length} freezes`,
          );
        await sleep(random(300, 700)); // the random moment of the next action
        if (action === 'crash') {
          await server!.crash();
          await sleep(random(500, 1_000)); // how long it stays down
          await server!.up();
          crashed = true;
          continue;
        }
        const victims = await waitFor(
          'two live workers',
          () => {
            const live = supervisor.liveReady();
            return live.length >= 2 ? live : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 50 },
        );
        const victim = victims[random(0, victims.length - 1)]!;
        if (action === 'freeze')
          thaws.push(
            victim.freeze(CHAOS_WORKER.leaseMs + random(1_000, 2_000)),
          );
        else {
          victim.signal('SIGKILL');
          kills += 1;
        }
      }
      await Promise.all(thaws);
      await production;
      const finals = await supervisor.settle();

      const ambiguous = await run.db.query<{ id: string }>(
        `SELECT id FROM nest_jobs WHERE (payload->>'seq')::int = ANY($1::int[])`,
        [failedSeqs],
      );
      const expected = new Set([
        ...run.producer.expected
          .filter((job) => job.kind === 'business')
          .map((job) => job.id),
        ...ambiguous.map((row) => row.id),
      ]);
      await waitFor(
        'every business and long job to complete',
        async () => {
          const [row] = await run.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM nest_jobs WHERE job_type = ANY($1) AND status <> 'completed'`,
            [[...BUSINESS_JOBS, JOB.steps]],
          );
          return row!.n === 0;
        },
        { timeoutMs: scaledTimeout(60_000), intervalMs: 200 },
      );
      const exits = await Promise.all(
        finals.map((worker) => terminate(worker, 20_000)),
      );

      const jobs = await run.db.query<{ id: string; attempts: number }>(
        `SELECT id, attempts FROM nest_jobs WHERE job_type = ANY($1)`,
        [BUSINESS_JOBS],
      );
      const duplicates = await run.db.query<{ job_id: string; n: number }>(
        `SELECT job_id, count(*)::int AS n FROM chaos_business GROUP BY job_id HAVING count(*) <> 1`,
      );
      const withoutRow = await run.db.query<{ id: string }>(
        `SELECT id FROM nest_jobs j WHERE job_type = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM chaos_business b WHERE b.job_id = j.id)`,
        [BUSINESS_JOBS],
      );
      const orphanRows = await run.db.query<{ job_id: string }>(
        `SELECT job_id FROM chaos_business b
         WHERE NOT EXISTS (SELECT 1 FROM nest_jobs j WHERE j.id = b.job_id)`,
      );
      const [executions] = await run.db.query<{ starts: number; jobs: number }>(
        `SELECT count(*)::int AS starts, count(DISTINCT job_id)::int AS jobs FROM chaos_ledger`,
      );
      const [{ rows: businessRows }] = await run.db.query<{ rows: number }>(
        'SELECT count(*)::int AS rows FROM chaos_business',
      );

      // The long jobs: every step committed once, and the work done close to one run.
      const steps = await run.db.query<{
        job_id: string;
        committed: number;
        distinct_steps: number;
      }>(
        `SELECT job_id, count(*)::int AS committed, count(DISTINCT step)::int AS distinct_steps
         FROM chaos_steps GROUP BY job_id`,
      );
      const [{ runs: stepRuns }] = await run.db.query<{ runs: number }>(
        'SELECT count(*)::int AS runs FROM chaos_step_runs',
      );
      const longAttempts = await run.db.query<{ attempts: number }>(
        'SELECT attempts FROM nest_jobs WHERE id = ANY($1::uuid[])',
        [longJobs],
      );
      const interruptions = longAttempts.reduce(
        (sum, job) => sum + job.attempts - 1,
        0,
      );

      run.report({
        database: 'its own embedded server (crashed once)',
        ...run.cluster.figures(),
        jobs: jobs.length,
        businessRows,
        handlerExecutions: executions!.starts,
        reExecutions: executions!.starts - executions!.jobs,
        retriedJobs: jobs.filter((job) => job.attempts > 1).length,
        duplicates: duplicates.length,
        longJobs: LONG_JOBS,
        longJobSteps: STEPS,
        longJobStepRuns: stepRuns,
        longJobInterruptions: interruptions,
        seconds: run.elapsedSeconds(),
      });

      // Every committed enqueue is a job, and every job completed.
      expect(jobs.length).toBe(expected.size);
      expect(jobs.every((job) => expected.has(job.id))).toBe(true);
      // Exactly one business row per job: no duplicate, none missing, none stray.
      expect(duplicates).toEqual([]);
      expect(withoutRow).toEqual([]);
      expect(orphanRows).toEqual([]);
      expect(businessRows).toBe(jobs.length);
      expect(steps).toEqual(
        longJobs.map(() =>
          expect.objectContaining({
            committed: STEPS,
            distinct_steps: STEPS,
          }),
        ),
      );
      // Each interruption costs at most the step in flight (plus, for a freeze, the steps
      // run while the lease had already lapsed: a few at most), not a run from the start.
      expect(interruptions).toBeGreaterThan(0);
      expect(stepRuns).toBeLessThanOrEqual(
        LONG_JOBS * STEPS + interruptions * 5,
      );
      // The chaos really made handlers run more than once.
      expect(executions!.starts).toBeGreaterThan(executions!.jobs);
      expect(kills).toBe(5 * rounds);
      expect(thaws).toHaveLength(2 * rounds);
      expectCleanExits(exits);
    },
    scaledTimeout(150_000),
  );
});
