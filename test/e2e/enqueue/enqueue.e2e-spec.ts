import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { getEntityManagerToken } from '@nestjs/typeorm';
import {
  EnqueueFailedError,
  Job,
  JobsModule,
  JobsService,
  runWithTraceId,
  type JobContext,
} from 'nest-jobs';
import pg from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { jobRow, jobRows } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class Mailer {
  @Job({ queue: 'emails', maxRetries: 5 })
  async sendWelcome(_payload: { email: string }, _ctx: JobContext) {}

  @Job({ name: 'mail.digest', retry: { type: 'none' } })
  async sendDigest(_payload: { day: string }) {}
}

/** Job ids are time-ordered version 7 UUIDs, made in the process. */
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The worker is disabled here: these tests look at rows exactly as enqueue wrote them. */
describe('JobsService.enqueue', () => {
  const suite = useJobsSuite('enqueue');
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;
  let dataSource: DataSource;

  beforeAll(async () => {
    app = await suite.app({
      providers: [Mailer],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        worker: { enabled: false },
        traceIdProvider: () => process.env.TEST_TRACE_ID,
      }),
    });
    jobs = app.get(JobsService);
    dataSource = app.get(DataSource);
  });
  beforeEach(async () => {
    await db.query('DELETE FROM nest_jobs');
  });

  describe('from the pool', () => {
    it('inserts one pending row with the handler defaults and returns its id', async () => {
      const id = await jobs.enqueue(Mailer, 'sendWelcome', {
        email: 'ada@example.com',
      });
      expect(id).toMatch(UUID);
      const row = await jobRow(db, id);
      expect(row).toMatchObject({
        queue: 'emails',
        job_type: 'Mailer.sendWelcome',
        payload: { email: 'ada@example.com' },
        status: 'pending',
        attempts: 0,
        max_retries: 5,
        started_at: null,
        locked_until: null,
        finished_at: null,
        last_error: null,
        trace_id: null,
        retry_policy: null,
      });
      expect(
        Math.abs(row!.run_at.getTime() - row!.created_at.getTime()),
      ).toBeLessThan(1000);
    });

    it('enqueues by job name for dynamic cases', async () => {
      const id = await jobs.enqueue('mail.digest', { day: '2026-11-23' });
      expect(await jobRow(db, id)).toMatchObject({
        job_type: 'mail.digest',
        queue: 'default',
        max_retries: 0,
      });
    });

    it('applies per-call overrides: queue, maxRetries, retry policy, trace id', async () => {
      const id = await jobs.enqueue(
        Mailer,
        'sendWelcome',
        { email: 'b@example.com' },
        {
          queue: 'vip-emails',
          maxRetries: 1,
          retry: { type: 'fixed', baseMs: 250 },
          traceId: 'trace-123',
        },
      );
      expect(await jobRow(db, id)).toMatchObject({
        queue: 'vip-emails',
        max_retries: 1,
        retry_policy: { type: 'fixed', baseMs: 250 },
        trace_id: 'trace-123',
      });
    });

    it('a retry policy of type none stores max_retries 0', async () => {
      const id = await jobs.enqueue(
        Mailer,
        'sendWelcome',
        { email: 'c@example.com' },
        { retry: { type: 'none' }, maxRetries: 9 },
      );
      expect(await jobRow(db, id)).toMatchObject({ max_retries: 0 });
    });

    it('stores strings that look like SQL verbatim, executing nothing', async () => {
      const evil = `'); DROP TABLE nest_jobs; --`;
      const id = await jobs.enqueue(
        'mail.digest',
        { day: evil, [`"k'ey`]: `\\x00 $1 ::jsonb` },
        { queue: `q'; DELETE FROM nest_jobs; --` },
      );
      expect(await jobRow(db, id)).toMatchObject({
        queue: `q'; DELETE FROM nest_jobs; --`,
        payload: { day: evil, [`"k'ey`]: `\\x00 $1 ::jsonb` },
      });
      expect(await jobRows(db)).toHaveLength(1);
    });
  });

  describe('many at once from the pool', () => {
    const calls = 200;
    const digests = (count: number, reject = -1) =>
      Array.from({ length: count }, (_, i) =>
        jobs.enqueue('mail.digest', { day: i === reject ? 'reject' : `${i}` }),
      );

    it('coalesces enqueues that wait for a connection into shared inserts; each call gets its own committed row', async () => {
      const ids = await Promise.all(digests(calls));
      expect(new Set(ids).size).toBe(calls);
      const rows = await db.query<{ id: string; day: string; xid: string }>(
        `SELECT id, payload->>'day' AS day, xmin::text AS xid FROM nest_jobs`,
      );
      expect(rows).toHaveLength(calls);
      const dayById = new Map(rows.map((row) => [row.id, row.day]));
      ids.forEach((id, i) => expect(dayById.get(id)).toBe(`${i}`));
      // One transaction per statement: 200 separate inserts would show 200 xmins. With a
      // pool of 10, the calls beyond the first ten share the inserts that follow.
      const transactions = new Set(rows.map((row) => row.xid)).size;
      expect(transactions).toBeLessThan(calls / 2);
    });

    it('when the database rejects the row of one call in a shared insert, only that call fails', async () => {
      await db.query(`
        CREATE FUNCTION reject_marked_job() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.payload->>'day' = 'reject' THEN
            RAISE EXCEPTION 'rejected by the test trigger';
          END IF;
          RETURN NEW;
        END $$`);
      await db.query(
        `CREATE TRIGGER reject_marked_job BEFORE INSERT ON nest_jobs
         FOR EACH ROW EXECUTE FUNCTION reject_marked_job()`,
      );
      try {
        const rejected = calls / 2; // well past the first ten, so it waits and is coalesced
        const results = await Promise.allSettled(digests(calls, rejected));
        const failed = results.flatMap((result, i) =>
          result.status === 'rejected' ? [{ i, error: result.reason }] : [],
        );
        expect(failed.map((f) => f.i)).toEqual([rejected]);
        const error = failed[0]!.error as EnqueueFailedError;
        expect(error).toBeInstanceOf(EnqueueFailedError);
        expect(String((error.cause as Error).message)).toContain(
          'rejected by the test trigger',
        );
        const rows = await jobRows(db);
        expect(rows).toHaveLength(calls - 1);
        expect(rows.some((row) => row.payload.day === 'reject')).toBe(false);
      } finally {
        await db.query(`DROP TRIGGER reject_marked_job ON nest_jobs`);
        await db.query(`DROP FUNCTION reject_marked_job()`);
      }
    });
  });

  describe('inside the caller transaction', () => {
    it('commit makes the job visible, and only then', async () => {
      let id = '';
      await dataSource.transaction(async (manager) => {
        id = await jobs.enqueue(
          Mailer,
          'sendWelcome',
          { email: 'tx@example.com' },
          { manager },
        );
        expect(await jobRow(db, id)).toBeUndefined(); // another connection cannot see it yet
      });
      expect(await jobRow(db, id)).toMatchObject({
        status: 'pending',
        payload: { email: 'tx@example.com' },
      });
    });

    it('rollback leaves no job', async () => {
      let id = '';
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.query(`SELECT 1`);
          id = await jobs.enqueue(
            Mailer,
            'sendWelcome',
            { email: 'rollback@example.com' },
            { manager },
          );
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(id).toMatch(UUID);
      expect(await jobRow(db, id)).toBeUndefined();
      expect(await jobRows(db)).toEqual([]);
    });

    it('works with a QueryRunner transaction, commit and rollback', async () => {
      const runner = dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        const rolledBack = await jobs.enqueue(
          'mail.digest',
          { day: 'mon' },
          { manager: runner.manager },
        );
        await runner.rollbackTransaction();
        await runner.startTransaction();
        const committed = await jobs.enqueue(
          'mail.digest',
          { day: 'tue' },
          { manager: runner.manager },
        );
        await runner.commitTransaction();
        expect(await jobRow(db, rolledBack)).toBeUndefined();
        expect(await jobRow(db, committed)).toMatchObject({
          payload: { day: 'tue' },
        });
      } finally {
        await runner.release();
      }
    });

    it('accepts the EntityManager injected by @nestjs/typeorm', async () => {
      const manager = app.get<EntityManager>(getEntityManagerToken() as never);
      const id = await jobs.enqueue('mail.digest', { day: 'wed' }, { manager });
      expect(await jobRow(db, id)).toMatchObject({ status: 'pending' });
    });

    it('notifies listening workers at commit, not before, and not after a rollback', async () => {
      const listener = new pg.Client({ connectionString: db.url });
      await listener.connect();
      const received: string[] = [];
      listener.on('notification', (message) =>
        received.push(`${message.channel}:${message.payload}`),
      );
      await listener.query('LISTEN nest_jobs');
      try {
        await dataSource
          .transaction(async (manager) => {
            await jobs.enqueue(
              'mail.digest',
              { day: 'thu' },
              { manager, queue: 'rolled-back' },
            );
            throw new Error('rollback');
          })
          .catch(() => undefined);
        await dataSource.transaction(async (manager) => {
          await jobs.enqueueMany(
            'mail.digest',
            [{ day: 'fri' }, { day: 'sat' }],
            { manager, queue: 'weekly' },
          );
          await listener.query('SELECT 1'); // a round trip on the listener: nothing may have arrived yet
          expect(received).toEqual([]);
        });
        await waitFor(
          'the notification of the commit',
          () => received.length > 0,
        );
        await listener.query('SELECT 1');
        expect(received).toEqual(['nest_jobs:weekly']);

        // A batch of different jobs and queues notifies each queue once, at commit.
        received.length = 0;
        const ids = await dataSource.transaction((manager) =>
          jobs.enqueueMany(
            [
              { name: 'mail.digest', payload: { day: 'sun' }, queue: 'q-a' },
              { name: 'mail.digest', payload: { day: 'mon' }, queue: 'q-b' },
              { name: 'mail.digest', payload: { day: 'tue' }, queue: 'q-a' },
            ],
            { manager },
          ),
        );
        await waitFor('both queues to be notified', () => received.length >= 2);
        await listener.query('SELECT 1');
        expect(received.sort()).toEqual(['nest_jobs:q-a', 'nest_jobs:q-b']);
        expect(
          (await Promise.all(ids.map((id) => jobRow(db, id)))).map(
            (row) => row?.queue,
          ),
        ).toEqual(['q-a', 'q-b', 'q-a']);
      } finally {
        await listener.end();
      }
    });
  });

  describe('enqueueMany', () => {
    it('inserts many payloads of one handler in one call, ids in order', async () => {
      const payloads = Array.from({ length: 1000 }, (_, i) => ({
        email: `user${i}@example.com`,
      }));
      const ids = await jobs.enqueueMany(Mailer, 'sendWelcome', payloads, {
        delay: 5000,
      });
      expect(ids).toHaveLength(1000);
      expect(new Set(ids).size).toBe(1000);
      const rows = await db.query<{ id: string; email: string; queue: string }>(
        `SELECT id, payload->>'email' AS email, queue FROM nest_jobs`,
      );
      const emailById = new Map(rows.map((row) => [row.id, row.email]));
      expect(ids.map((id) => emailById.get(id))).toEqual(
        payloads.map((p) => p.email),
      );
      expect(new Set(rows.map((row) => row.queue))).toEqual(
        new Set(['emails']),
      );
      // The options shared by the batch reach every row.
      const [shared] = await db.query<{
        rows: number;
        max_retries: number[];
        delayed: boolean;
      }>(
        `SELECT count(*)::int AS rows, array_agg(DISTINCT max_retries) AS max_retries,
                bool_and(run_at > created_at + interval '4 seconds') AS delayed
         FROM nest_jobs`,
      );
      expect(shared).toEqual({ rows: 1000, max_retries: [5], delayed: true });
    });

    it('gives every row of a batch its schedule, retry policy and trace id', async () => {
      const runAt = new Date(Date.now() + 3_600_000);
      const ids = await jobs.enqueueMany(
        Mailer,
        'sendWelcome',
        [{ email: 'a@example.com' }, { email: 'b@example.com' }],
        {
          runAt,
          maxRetries: 1,
          traceId: 'batch-trace',
          retry: { type: 'fixed', baseMs: 250 },
        },
      );
      for (const id of ids) {
        const row = (await jobRow(db, id))!;
        expect(row).toMatchObject({
          max_retries: 1,
          trace_id: 'batch-trace',
          retry_policy: { type: 'fixed', baseMs: 250 },
        });
        expect(row.run_at.getTime()).toBe(runAt.getTime());
      }
    });

    it('mixes job names in one call, each with its own options', async () => {
      const ids = await jobs.enqueueMany([
        { name: 'mail.digest', payload: { day: 'mon' } },
        {
          name: 'Mailer.sendWelcome',
          payload: { email: 'm@example.com' },
          queue: 'q2',
          maxRetries: 2,
          traceId: 't-2',
        },
      ]);
      expect(await jobRow(db, ids[0]!)).toMatchObject({
        job_type: 'mail.digest',
        queue: 'default',
        max_retries: 0,
      });
      expect(await jobRow(db, ids[1]!)).toMatchObject({
        job_type: 'Mailer.sendWelcome',
        queue: 'q2',
        max_retries: 2,
        trace_id: 't-2',
      });
    });

    it('runs inside a transaction too: rollback leaves none', async () => {
      await dataSource
        .transaction(async (manager) => {
          await jobs.enqueueMany('mail.digest', [{ day: 'a' }, { day: 'b' }], {
            manager,
          });
          throw new Error('no');
        })
        .catch(() => undefined);
      expect(await jobRows(db)).toEqual([]);
    });

    it('returns [] for no payloads without touching the database', async () => {
      expect(await jobs.enqueueMany('mail.digest', [])).toEqual([]);
      expect(await jobs.enqueueMany([])).toEqual([]);
    });
  });

  describe('scheduling', () => {
    it('delay is measured on the database clock', async () => {
      const id = await jobs.enqueue(
        'mail.digest',
        { day: 'later' },
        { delay: 60_000 },
      );
      const [row] = await db.query(
        `SELECT extract(epoch FROM run_at - created_at) * 1000 AS ms FROM nest_jobs WHERE id = $1`,
        [id],
      );
      expect(Number(row.ms)).toBeGreaterThanOrEqual(60_000);
      expect(Number(row.ms)).toBeLessThan(61_000);
    });

    it('runAt is stored exactly', async () => {
      const runAt = new Date('2031-02-03T04:05:06.789Z');
      const id = await jobs.enqueue(
        'mail.digest',
        { day: 'future' },
        { runAt },
      );
      expect((await jobRow(db, id))!.run_at.toISOString()).toBe(
        runAt.toISOString(),
      );
    });
  });

  describe('trace ids', () => {
    it('come from runWithTraceId across awaits', async () => {
      const id = await runWithTraceId('req-42', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return jobs.enqueue('mail.digest', { day: 'x' });
      });
      expect(await jobRow(db, id)).toMatchObject({ trace_id: 'req-42' });
    });

    it('an explicit trace id wins over the context', async () => {
      const id = await runWithTraceId('ctx', () =>
        jobs.enqueue('mail.digest', { day: 'x' }, { traceId: 'explicit' }),
      );
      expect(await jobRow(db, id)).toMatchObject({ trace_id: 'explicit' });
    });

    it('fall back to the traceIdProvider option, and implicit ids are clipped to 64 characters', async () => {
      process.env.TEST_TRACE_ID = 'p'.repeat(80);
      try {
        const id = await jobs.enqueue('mail.digest', { day: 'x' });
        expect(await jobRow(db, id)).toMatchObject({
          trace_id: 'p'.repeat(64),
        });
      } finally {
        delete process.env.TEST_TRACE_ID;
      }
    });
  });
});
