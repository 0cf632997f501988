import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  EnqueueFailedError,
  InvalidPayloadError,
  Job,
  JobsMiddleware,
  JobsModule,
  JobsService,
  type EnqueuedJobInfo,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';

@Injectable()
class Imports {
  @Job({ name: 'import.chunk', retry: { type: 'none' } })
  async chunk(_payload: { i: number; tag?: string; data: string }) {}

  @Job({ name: 'import.numbers', retry: { type: 'none' } })
  async numbers(_payload: number[]) {}
}

/** Counts enqueue calls as the middleware sees them. */
@JobsMiddleware()
@Injectable()
class EnqueueCalls implements JobsMiddleware {
  readonly sizes: number[] = [];
  async enqueue(jobs: readonly EnqueuedJobInfo[], next: () => Promise<void>) {
    this.sizes.push(jobs.length);
    await next();
  }
}

const MiB = 1024 * 1024;
/** Just under the default payload limit once serialised: about 1 MB of JSON. */
const DATA = 'x'.repeat(MiB - 64);
/** The largest `maxPayloadBytes` (what one jsonb value is sure to hold). */
const PAYLOAD_CEILING = 32 * MiB;

const chunk = (i: number, tag?: string) => ({
  i,
  ...(tag ? { tag } : {}),
  data: DATA,
});

/**
 * Inserts and coalescing near PostgreSQL's limits: one jsonb value holds at most
 * 268,435,455 bytes, one statement is cut at 16 Mi characters of payload JSON, so 20 payloads
 * of 1 MB take two statements. Large payloads, so few and slow: the worker is off.
 */
describe('enqueue within PostgreSQL size limits', () => {
  const suite = useJobsSuite('enqueue-size-limits');
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;
  let dataSource: DataSource;
  let calls: EnqueueCalls;
  let events: EventLog;

  beforeAll(async () => {
    app = await suite.app({
      providers: [Imports, EnqueueCalls, EventLog],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        worker: { enabled: false },
        maxPayloadBytes: PAYLOAD_CEILING,
        // One statement of 32 MiB takes seconds, more on a loaded machine: the default bound
        // of 15 s is for ordinary enqueues (the manual says to raise it for payloads this big).
        enqueueTimeoutMs: 120_000,
      }),
    });
    jobs = app.get(JobsService);
    dataSource = app.get(DataSource);
    calls = app.get(EnqueueCalls);
    events = app.get(EventLog);
    // Refuses the row tagged 'reject', as a constraint or trigger of the application would.
    await db.query(`
      CREATE FUNCTION reject_tagged_job() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.payload->>'tag' = 'reject' THEN
          RAISE EXCEPTION 'rejected by the test trigger';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER reject_tagged_job BEFORE INSERT ON nest_jobs
       FOR EACH ROW EXECUTE FUNCTION reject_tagged_job()`,
    );
  });
  afterEach(async () => {
    await db.query('DELETE FROM nest_jobs');
    calls.sizes.length = 0;
    events.entries.length = 0;
  });

  const rowSummary = async () => {
    const [summary] = await db.query<{
      rows: number;
      data_chars: number;
      transactions: number;
    }>(
      `SELECT count(*)::int AS rows,
              coalesce(sum(length(payload->>'data')), 0)::int AS data_chars,
              count(DISTINCT xmin::text)::int AS transactions
       FROM nest_jobs`,
    );
    return summary!;
  };

  it('enqueueMany of 270 payloads of 1 MB (more than one jsonb value holds) writes every row, in one transaction, as one enqueue call', async () => {
    const count = 270;
    const ids = await jobs.enqueueMany(
      'import.chunk',
      Array.from({ length: count }, (_, i) => chunk(i)),
    );
    expect(ids).toHaveLength(count);
    expect(await rowSummary()).toEqual({
      rows: count,
      data_chars: count * DATA.length,
      transactions: 1,
    });
    const order = await db.query<{ id: string; i: number }>(
      `SELECT id, (payload->>'i')::int AS i FROM nest_jobs`,
    );
    const indexById = new Map(order.map((row) => [row.id, row.i]));
    ids.forEach((id, i) => expect(indexById.get(id)).toBe(i));
    // Middleware and events see the call, not the statements it took.
    expect(calls.sizes).toEqual([count]);
    expect(events.of('job.enqueued').map((e) => e.jobs.length)).toEqual([
      count,
    ]);
  }, 120_000);

  it('a call within the budget is one statement, as before; 5,001 small jobs are two, in one transaction', async () => {
    // A statement-level trigger counts the insert statements.
    await db.query(`CREATE TABLE insert_statements (at timestamptz)`);
    await db.query(`
      CREATE FUNCTION count_insert_statement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO insert_statements VALUES (now());
        RETURN NULL;
      END $$`);
    await db.query(
      `CREATE TRIGGER count_insert_statement AFTER INSERT ON nest_jobs
       FOR EACH STATEMENT EXECUTE FUNCTION count_insert_statement()`,
    );
    const statements = async () => {
      const [row] = await db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM insert_statements`,
      );
      await db.query(`DELETE FROM insert_statements`);
      return row!.count;
    };
    try {
      const small = (count: number) =>
        Array.from({ length: count }, (_, i) => [i]);
      await jobs.enqueueMany('import.numbers', small(5_000));
      expect(await statements()).toBe(1);
      await db.query('DELETE FROM nest_jobs');
      await jobs.enqueueMany('import.numbers', small(5_001));
      expect(await statements()).toBe(2);
      expect(await rowSummary()).toMatchObject({
        rows: 5_001,
        transactions: 1,
      });
      await db.query('DELETE FROM nest_jobs');
      // 16 payloads of 1 MB fit the 16 Mi characters of one statement: 33 take three.
      await jobs.enqueueMany(
        'import.chunk',
        Array.from({ length: 33 }, (_, i) => chunk(i)),
      );
      expect(await statements()).toBe(3);
    } finally {
      await db.query(`DROP TRIGGER count_insert_statement ON nest_jobs`);
      await db.query(`DROP FUNCTION count_insert_statement()`);
      await db.query(`DROP TABLE insert_statements`);
    }
  });

  it.each([
    ['payloads of one job (one JSON array per statement)', false],
    ['jobs of several names (one array per column)', true],
  ])(
    'a statement refused after others were sent leaves no row of the call: %s',
    async (_kind, mixed) => {
      // 21 rows: the last, a chunk of 1 MB, lands in the second statement.
      const count = 41;
      const last = count - 1;
      const call = mixed
        ? jobs.enqueueMany(
            Array.from({ length: count }, (_, i) =>
              i % 2 === 0
                ? {
                    name: 'import.chunk',
                    payload: chunk(i, i === last ? 'reject' : undefined),
                  }
                : { name: 'import.numbers', payload: [i] },
            ),
          )
        : jobs.enqueueMany(
            'import.chunk',
            Array.from({ length: count }, (_, i) =>
              chunk(i, i === last ? 'reject' : undefined),
            ),
          );
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect(String((error as Error).cause)).toContain(
        'rejected by the test trigger',
      );
      expect((await rowSummary()).rows).toBe(0);
      expect(events.of('job.enqueued')).toEqual([]);
      // The connection of the rolled-back transaction went back to the pool in order.
      await jobs.enqueueMany('import.chunk', [chunk(1), chunk(2)]);
      expect((await rowSummary()).rows).toBe(2);
    },
  );

  it('a connection lost in the middle of a split call: EnqueueFailedError, no row, and the pool keeps working', async () => {
    await db.query(`
      CREATE FUNCTION terminate_on_tag() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.payload->>'tag' = 'terminate' THEN
          PERFORM pg_terminate_backend(pg_backend_pid());
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER terminate_on_tag BEFORE INSERT ON nest_jobs
       FOR EACH ROW EXECUTE FUNCTION terminate_on_tag()`,
    );
    try {
      const error = await jobs
        .enqueueMany(
          'import.chunk',
          Array.from({ length: 20 }, (_, i) =>
            chunk(i, i === 19 ? 'terminate' : undefined),
          ),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect((await rowSummary()).rows).toBe(0);
    } finally {
      await db.query(`DROP TRIGGER terminate_on_tag ON nest_jobs`);
      await db.query(`DROP FUNCTION terminate_on_tag()`);
    }
    // Every connection the pool hands out afterwards works.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => jobs.enqueue('import.numbers', [i])),
    );
    expect((await rowSummary()).rows).toBe(20);
  });

  describe('with { manager }', () => {
    const many = (count: number, rejectLast = false) =>
      Array.from({ length: count }, (_, i) =>
        chunk(i, rejectLast && i === count - 1 ? 'reject' : undefined),
      );

    it('sends the statements in the caller transaction: its commit writes all, with its own rows', async () => {
      await dataSource.transaction(async (manager) => {
        await manager.query(
          `CREATE TABLE IF NOT EXISTS caller_rows (note text)`,
        );
        await manager.query(`INSERT INTO caller_rows VALUES ('mine')`);
        await jobs.enqueueMany('import.chunk', many(20), { manager });
      });
      const [caller] = await db.query<{ xid: string }>(
        `SELECT xmin::text AS xid FROM caller_rows`,
      );
      const [jobsXid] = await db.query<{ xid: string }>(
        `SELECT DISTINCT xmin::text AS xid FROM nest_jobs`,
      );
      expect(await rowSummary()).toMatchObject({ rows: 20, transactions: 1 });
      expect(jobsXid!.xid).toBe(caller!.xid);
      await db.query(`DROP TABLE caller_rows`);
    });

    it('a statement refused by the database aborts the caller transaction, as any refused statement does: nothing is committed', async () => {
      await db.query(`CREATE TABLE caller_rows (note text)`);
      try {
        const outcome = await dataSource
          .transaction(async (manager) => {
            await manager.query(`INSERT INTO caller_rows VALUES ('mine')`);
            await jobs.enqueueMany('import.chunk', many(20, true), {
              manager,
            });
          })
          .catch((e: unknown) => e);
        expect(outcome).toBeInstanceOf(EnqueueFailedError);
        expect((await rowSummary()).rows).toBe(0);
        expect(await db.query(`SELECT * FROM caller_rows`)).toEqual([]);
      } finally {
        await db.query(`DROP TABLE caller_rows`);
      }
    });

    it('a manager outside any transaction still gets all or nothing (the library opens one)', async () => {
      const error = await jobs
        .enqueueMany('import.chunk', many(20, true), {
          manager: dataSource.manager,
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect((await rowSummary()).rows).toBe(0);
      await jobs.enqueueMany('import.chunk', many(20), {
        manager: dataSource.manager,
      });
      expect(await rowSummary()).toMatchObject({ rows: 20, transactions: 1 });
    });
  });

  describe('one payload', () => {
    it('stores a payload at the ceiling of maxPayloadBytes whose jsonb is six times its text', async () => {
      // [1,1,...]: the JSON text that grows most as jsonb (12 bytes per 2 characters).
      const digits = new Array<number>((PAYLOAD_CEILING - 2) / 2).fill(1);
      await jobs.enqueue('import.numbers', digits);
      // 16,777,215 elements (PostgreSQL parses at most 16,777,216 in one array), 12 bytes
      // each as jsonb: 192 MiB, under the 268,435,455 bytes of one value.
      const [stored] = await db.query<{ length: number }>(
        `SELECT jsonb_array_length(payload) AS length FROM nest_jobs`,
      );
      expect(stored!.length).toBe(digits.length);
    }, 120_000);

    it('refuses a payload over the limit before anything is sent, naming the item, its size and the limit; the caller transaction stays usable', async () => {
      const tooLarge = { i: 1, data: 'x'.repeat(PAYLOAD_CEILING) };
      await dataSource.transaction(async (manager) => {
        const error = await jobs
          .enqueueMany('import.chunk', [chunk(0), tooLarge], { manager })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidPayloadError);
        expect((error as InvalidPayloadError).path).toBe('payloads[1]');
        expect((error as Error).message).toContain(
          `is ${PAYLOAD_CEILING + 17} bytes of JSON, over the limit of ${PAYLOAD_CEILING}`,
        );
        await jobs.enqueue('import.chunk', chunk(2), { manager });
      });
      expect((await rowSummary()).rows).toBe(1);
      expect(calls.sizes).toEqual([1]);
    });
  });

  describe('coalesced pooled enqueues under a busy pool', () => {
    it("one caller's size or refused row never fails another's", async () => {
      const singles = 30;
      const settled = await Promise.allSettled([
        ...Array.from({ length: singles }, (_, i) =>
          jobs.enqueue('import.chunk', chunk(i)),
        ),
        // Over the statement budget on its own: never coalesced, split in a transaction.
        jobs.enqueueMany(
          'import.chunk',
          Array.from({ length: 20 }, (_, i) => chunk(1000 + i, 'bulk')),
        ),
        jobs.enqueue('import.chunk', chunk(2000, 'reject')),
        ...Array.from({ length: singles }, (_, i) =>
          jobs.enqueue('import.chunk', chunk(3000 + i)),
        ),
      ]);
      const failed = settled.flatMap((result, i) =>
        result.status === 'rejected' ? [i] : [],
      );
      expect(failed).toEqual([singles + 1]);
      const refusal = (settled[singles + 1] as PromiseRejectedResult).reason;
      expect(refusal).toBeInstanceOf(EnqueueFailedError);
      const summary = await rowSummary();
      expect(summary.rows).toBe(2 * singles + 20);
      // Coalesced: fewer transactions than calls (16 rows of 1 MB fit one statement).
      expect(summary.transactions).toBeLessThan(2 * singles);
      const [bulk] = await db.query<{ rows: number; transactions: number }>(
        `SELECT count(*)::int AS rows, count(DISTINCT xmin::text)::int AS transactions
         FROM nest_jobs WHERE payload->>'tag' = 'bulk'`,
      );
      expect(bulk).toEqual({ rows: 20, transactions: 1 });
    });
  });
});
