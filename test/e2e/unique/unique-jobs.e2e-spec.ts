import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  InvalidJobsOptionError,
  Job,
  JobsModule,
  JobsService,
  type EnqueueOutcome,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { updateJobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class Reports {
  @Job({ name: 'report.build', unique: { by: ['account'] } })
  async build(_payload: { account: string; filters?: unknown }) {}

  @Job({ name: 'report.any' })
  async any(_payload: unknown) {}
}

/** The worker is disabled: these tests look at what enqueue wrote and reported. */
describe('unique jobs', () => {
  const suite = useJobsSuite('unique-jobs');
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;
  let dataSource: DataSource;

  beforeAll(async () => {
    app = await suite.app({
      providers: [Reports, EventLog],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        worker: { enabled: false },
      }),
    });
    jobs = app.get(JobsService);
    dataSource = app.get(DataSource);
  });
  beforeEach(async () => {
    await db.query('DELETE FROM nest_jobs');
    app.get(EventLog).entries.length = 0;
  });

  const count = async () =>
    Number((await db.query('SELECT count(*) AS n FROM nest_jobs'))[0].n);

  /** Exactly one of `outcomes` inserted; every other one is a duplicate carrying its id. */
  function expectOneInserted(outcomes: readonly EnqueueOutcome[]): string {
    const inserted = outcomes.filter((o) => !o.duplicate);
    expect(inserted).toHaveLength(1);
    for (const outcome of outcomes)
      expect(outcome).toEqual({
        id: inserted[0]!.id,
        duplicate: outcome !== inserted[0],
      });
    return inserted[0]!.id;
  }

  it('10 concurrent producers on one key: one job, the other nine told "duplicate" with its id', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        jobs.enqueueWithOutcome(
          'report.any',
          { producer: i },
          { unique: { key: 'nightly' } },
        ),
      ),
    );
    const id = expectOneInserted(outcomes);
    const rows = await db.query('SELECT id, unique_key FROM nest_jobs');
    expect(rows).toEqual([{ id, unique_key: '10:report.any|k:nightly' }]);
  });

  it('10 concurrent producers each in its own transaction: one job once they commit', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        dataSource.transaction((manager) =>
          jobs.enqueueWithOutcome(
            'report.any',
            { producer: i },
            { manager, unique: { key: 'tx' } },
          ),
        ),
      ),
    );
    expectOneInserted(outcomes);
    expect(await count()).toBe(1);
  });

  it('coalesced pooled inserts: a duplicate neither fails nor splits the other callers', async () => {
    // 30 calls on a pool of 10: the waiting ones go out together, keys and plain jobs mixed.
    const calls = Array.from({ length: 30 }, (_, i) =>
      jobs.enqueueWithOutcome(
        'report.any',
        { i },
        i % 3 === 0 ? {} : { unique: { key: `k${i % 2}` } },
      ),
    );
    const outcomes = await Promise.all(calls);
    const plain = outcomes.filter((_, i) => i % 3 === 0);
    expect(plain.every((o) => !o.duplicate)).toBe(true);
    expectOneInserted(outcomes.filter((_, i) => i % 3 !== 0 && i % 2 === 0));
    expectOneInserted(outcomes.filter((_, i) => i % 3 !== 0 && i % 2 === 1));
    expect(await count()).toBe(plain.length + 2);
  });

  it('a rollback frees the key, also for a producer that waited on it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedInTx = new Promise<void>((resolve) => (inserted = resolve));
    const rolledBack = dataSource
      .transaction(async (manager) => {
        await jobs.enqueue(
          'report.any',
          {},
          { manager, unique: { key: 'rb' } },
        );
        inserted();
        await held;
        throw new Error('roll back');
      })
      .catch((error: Error) => error.message);
    await insertedInTx;
    // Waits on the uncommitted row's key, then inserts once it is rolled back.
    const waiting = jobs.enqueueWithOutcome(
      'report.any',
      {},
      { unique: { key: 'rb' } },
    );
    await waitFor('the producer to wait on the key', async () => {
      const [row] = await db.query(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND datname = current_database()`,
      );
      return Number(row.n) > 0;
    });
    release();
    expect(await rolledBack).toBe('roll back');
    const outcome = await waiting;
    expect(outcome.duplicate).toBe(false);
    expect(await count()).toBe(1);
  });

  it('enqueueMany: an item repeating a key of the same call is a duplicate of the first', async () => {
    const outcomes = await jobs.enqueueManyWithOutcome([
      { name: 'report.any', payload: 1, unique: { key: 'a' } },
      { name: 'report.any', payload: 2 },
      { name: 'report.any', payload: 3, unique: { key: 'a' } },
      { name: 'report.build', payload: { account: 'x' } },
      { name: 'report.build', payload: { account: 'x', filters: 1 } },
    ]);
    expect(outcomes.map((o) => o.duplicate)).toEqual([
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(outcomes[2]!.id).toBe(outcomes[0]!.id);
    expect(outcomes[4]!.id).toBe(outcomes[3]!.id);
    expect(await count()).toBe(3);
    // enqueueMany of one handler: the ids, a duplicate's being the existing job's.
    const ids = await jobs.enqueueMany('report.build', [
      { account: 'x' },
      { account: 'y' },
    ]);
    expect(ids[0]).toBe(outcomes[3]!.id);
    expect(await count()).toBe(4);
  });

  it('a pooled enqueueMany over one statement (several statements in one transaction) reports the duplicates of held keys', async () => {
    const held = await jobs.enqueue('report.build', { account: 'a17' });
    // More rows than one statement takes (5,000): split, in a transaction of its own.
    const accounts = Array.from({ length: 6_001 }, (_, i) => `a${i}`);
    const outcomes = await jobs.enqueueManyWithOutcome(
      'report.build',
      accounts.map((account) => ({ account })),
    );
    expect(outcomes[17]).toEqual({ id: held, duplicate: true });
    expect(outcomes.filter((o) => o.duplicate)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.id)).size).toBe(6_001);
    expect(await count()).toBe(6_001);
  });

  it('enqueueMany of one handler and one set of options (the shared insert), pooled and in a transaction', async () => {
    const existing = await jobs.enqueue('report.build', { account: 'a' });
    const options = {
      priority: 7,
      delay: 60_000,
      unique: { by: ['account'], states: ['pending' as const] },
    };
    const pooled = await jobs.enqueueManyWithOutcome(
      'report.build',
      [{ account: 'a' }, { account: 'b' }, { account: 'b' }, { account: 'c' }],
      options,
    );
    // 'a' is pending with the handler's default states, so the key is held.
    expect(pooled.map((o) => o.duplicate)).toEqual([true, false, true, false]);
    expect(pooled[0]!.id).toBe(existing);
    expect(pooled[2]!.id).toBe(pooled[1]!.id);
    const transactional = await dataSource.transaction((manager) =>
      jobs.enqueueManyWithOutcome(
        'report.build',
        [{ account: 'c' }, { account: 'd' }],
        { ...options, manager },
      ),
    );
    expect(transactional).toEqual([
      { id: pooled[3]!.id, duplicate: true },
      { id: expect.any(String), duplicate: false },
    ]);
    const rows = await db.query(
      `SELECT payload->>'account' AS account, priority, unique_states, run_at > now() AS later
       FROM nest_jobs WHERE id <> $1 ORDER BY account`,
      [existing],
    );
    expect(rows).toEqual(
      ['b', 'c', 'd'].map((account) => ({
        account,
        priority: 7,
        unique_states: 1,
        later: true,
      })),
    );
    // Priority alone takes the same statement, with no keys at all.
    await jobs.enqueueMany('report.any', [1, 2], { priority: -3 });
    expect(
      await db.query(
        `SELECT priority, unique_key FROM nest_jobs WHERE job_type = 'report.any'`,
      ),
    ).toEqual([
      { priority: -3, unique_key: null },
      { priority: -3, unique_key: null },
    ]);
  });

  it('a pooled insert that expected free keys and met a held one is sent again: nothing twice, the duplicates reported', async () => {
    const held = await jobs.enqueue('report.build', { account: 'held' });
    // An app of its own: its first unique insert goes out without ON CONFLICT.
    const other = await suite.app({
      providers: [Reports],
      jobsModule: JobsModule.forRoot({ worker: { enabled: false } }),
    });
    const otherJobs = other.get(JobsService);
    const outcomes = await otherJobs.enqueueManyWithOutcome('report.build', [
      { account: 'n1' },
      { account: 'held' },
      { account: 'n2' },
      { account: 'n1' },
    ]);
    expect(outcomes.map((o) => o.duplicate)).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(outcomes[1]!.id).toBe(held);
    expect(outcomes[3]!.id).toBe(outcomes[0]!.id);
    expect(await count()).toBe(3);
    // Single enqueues right after (with ON CONFLICT at once) report the same.
    expect(
      await otherJobs.enqueueWithOutcome('report.build', { account: 'n2' }),
    ).toEqual({ id: outcomes[2]!.id, duplicate: true });
    expect(
      await otherJobs.enqueueWithOutcome('report.build', { account: 'n3' }),
    ).toEqual({ id: expect.any(String), duplicate: false });
    expect(await count()).toBe(4);
  });

  it('keys that already grow go out unsorted: a held one among them is still reported with its id, pooled and in a transaction', async () => {
    const held = await jobs.enqueue('report.build', { account: 'a2' });
    const other = await suite.app({
      providers: [Reports],
      jobsModule: JobsModule.forRoot({ worker: { enabled: false } }),
    });
    const otherJobs = other.get(JobsService);
    // Keys ["a1"] < ["a2"] < ["a3"]: the rows go as given, first without ON CONFLICT.
    const pooled = await otherJobs.enqueueManyWithOutcome('report.build', [
      { account: 'a1' },
      { account: 'a2' },
      { account: 'a3' },
    ]);
    expect(pooled).toEqual([
      { id: expect.any(String), duplicate: false },
      { id: held, duplicate: true },
      { id: expect.any(String), duplicate: false },
    ]);
    const inTransaction = await other
      .get(DataSource)
      .transaction((manager) =>
        otherJobs.enqueueManyWithOutcome(
          'report.build',
          [{ account: 'a0' }, { account: 'a2' }, { account: 'a4' }],
          { manager },
        ),
      );
    expect(inTransaction.map((o) => o.duplicate)).toEqual([false, true, false]);
    expect(inTransaction[1]!.id).toBe(held);
    expect(await count()).toBe(5);
  });

  it("enqueue returns the existing job's id for a duplicate", async () => {
    const first = await jobs.enqueue(Reports, 'build', { account: 'a' });
    const again = await jobs.enqueue(Reports, 'build', {
      filters: { b: 1, a: 2 },
      account: 'a',
    });
    expect(again).toBe(first);
    expect(await count()).toBe(1);
  });

  it('derives the key from the chosen fields only, object keys in any order', async () => {
    const base = { unique: { by: ['account', 'range'] } };
    const a = await jobs.enqueueWithOutcome(
      'report.any',
      { account: 1, range: { from: 1, to: 2 }, noise: 'x' },
      base,
    );
    const b = await jobs.enqueueWithOutcome(
      'report.any',
      { noise: 'y', range: { to: 2, from: 1 }, account: 1 },
      base,
    );
    const c = await jobs.enqueueWithOutcome(
      'report.any',
      { account: 2, range: { from: 1, to: 2 } },
      base,
    );
    expect(b).toEqual({ id: a.id, duplicate: true });
    expect(c.duplicate).toBe(false);
  });

  it('a key from fields keeps their JSON when no longer than a hash (43 characters), else their SHA-256', async () => {
    const keyOf = async (account: unknown) => {
      const id = await jobs.enqueue('report.build', { account });
      const [row] = await db.query(
        'SELECT unique_key FROM nest_jobs WHERE id = $1',
        [id],
      );
      // Enqueued again, the same value finds its key whatever its form.
      expect(
        await jobs.enqueueWithOutcome('report.build', { account }),
      ).toEqual({ id, duplicate: true });
      return (row as { unique_key: string }).unique_key;
    };
    const prefix = '12:report.build|f:';
    expect(await keyOf('acme')).toBe(`${prefix}["acme"]`);
    expect(await keyOf(1234)).toBe(`${prefix}[1234]`);
    expect(await keyOf({ b: 1, a: 'é' })).toBe(`${prefix}[{"a":"é","b":1}]`);
    // `["` + 39 characters + `"]` is 43: kept; one more is hashed.
    expect(await keyOf('x'.repeat(39))).toBe(`${prefix}["${'x'.repeat(39)}"]`);
    const hashed = await keyOf('x'.repeat(40));
    expect(hashed).toMatch(/^12:report\.build\|f:[A-Za-z0-9_-]{43}$/);
    expect(await count()).toBe(5);
  });

  it('concurrent bulk producers on the same keys in different orders, pooled and in transactions: one job per key, the rest duplicates of it, no deadlock', async () => {
    const accounts = Array.from({ length: 300 }, (_, i) => `r${i}`);
    // Producers sharing keys with each other, some in the opposite order: the
    // insert takes keys in one order, so none waits for a key held by one waiting for it
    // (else PostgreSQL would abort one of them as a deadlock).
    const producers = Array.from({ length: 6 }, (_, p) => {
      const mine = accounts.slice(p * 30, p * 30 + 150);
      return p % 3 === 1 ? mine.reverse() : mine;
    });
    const outcomes = await Promise.all(
      producers.map((mine, p) => {
        const payloads = mine.map((account) => ({ account }));
        return p % 2 === 0
          ? jobs.enqueueManyWithOutcome('report.build', payloads)
          : dataSource.transaction((manager) =>
              jobs.enqueueManyWithOutcome('report.build', payloads, {
                manager,
              }),
            );
      }),
    );
    const byAccount = new Map<string, EnqueueOutcome[]>();
    producers.forEach((mine, p) =>
      mine.forEach((account, i) =>
        byAccount.set(account, [
          ...(byAccount.get(account) ?? []),
          outcomes[p]![i]!,
        ]),
      ),
    );
    const rows: { id: string; account: string }[] = await db.query(
      `SELECT id, payload->>'account' AS account FROM nest_jobs`,
    );
    const distinct = new Set(producers.flat());
    expect(rows).toHaveLength(distinct.size);
    for (const row of rows)
      expect(expectOneInserted(byAccount.get(row.account)!)).toBe(row.id);
  });

  it('the handler default applies; unique: false opts one job out', async () => {
    const first = await jobs.enqueueWithOutcome('report.build', {
      account: 'z',
    });
    const plain = await jobs.enqueueWithOutcome(
      'report.build',
      { account: 'z' },
      { unique: false },
    );
    expect(first.duplicate).toBe(false);
    expect(plain).toEqual({ id: expect.any(String), duplicate: false });
    expect(plain.id).not.toBe(first.id);
  });

  it('by default a key is free again once its job completed or failed', async () => {
    const first = await jobs.enqueue('report.any', 1, { unique: { key: 'k' } });
    await updateJobRow(db, first, { status: 'running' });
    expect(
      await jobs.enqueueWithOutcome('report.any', 2, { unique: { key: 'k' } }),
    ).toEqual({ id: first, duplicate: true });
    await updateJobRow(db, first, {
      status: 'completed',
      finished_at: new Date(),
    });
    const next = await jobs.enqueueWithOutcome('report.any', 3, {
      unique: { key: 'k' },
    });
    expect(next.duplicate).toBe(false);
  });

  it('states including completed and failed: refused for ever (an idempotency key)', async () => {
    const unique = {
      key: 'order-42',
      states: ['pending', 'running', 'completed', 'failed'] as const,
    };
    const first = await jobs.enqueue('report.any', 1, { unique });
    await updateJobRow(db, first, {
      status: 'failed',
      finished_at: new Date(),
    });
    expect(await jobs.enqueueWithOutcome('report.any', 2, { unique })).toEqual({
      id: first,
      duplicate: true,
    });
  });

  it('states ["pending"]: a duplicate is refused only while the job waits (debounce)', async () => {
    const unique = { key: 'debounce', states: ['pending'] as const };
    const first = await jobs.enqueue('report.any', 1, { unique });
    expect(
      (await jobs.enqueueWithOutcome('report.any', 2, { unique })).id,
    ).toBe(first);
    await updateJobRow(db, first, { status: 'running' });
    const second = await jobs.enqueueWithOutcome('report.any', 3, { unique });
    expect(second.duplicate).toBe(false);
    // The running job finishes while the second waits: no conflict on the way.
    await updateJobRow(db, first, {
      status: 'completed',
      finished_at: new Date(),
    });
    expect(await count()).toBe(2);
  });

  it("periodMs: the key holds the period's bucket", async () => {
    const periodMs = 3_600_000;
    const before = Math.floor(Date.now() / periodMs);
    const id = await jobs.enqueue('report.any', 1, {
      unique: { periodMs },
    });
    const [row] = await db.query(
      'SELECT unique_key, unique_states FROM nest_jobs WHERE id = $1',
      [id],
    );
    const after = Math.floor(Date.now() / periodMs);
    expect([`10:report.any|t@${before}`, `10:report.any|t@${after}`]).toContain(
      row.unique_key,
    );
    expect(row.unique_states).toBe(3);
  });

  it('job.enqueued lists only the jobs inserted', async () => {
    const log = app.get(EventLog);
    await jobs.enqueue('report.any', 1, { unique: { key: 'e' } });
    await jobs.enqueue('report.any', 2, { unique: { key: 'e' } });
    await jobs.enqueueMany([
      { name: 'report.any', payload: 3, unique: { key: 'e' } },
      { name: 'report.any', payload: 4 },
    ]);
    expect(
      log.of('job.enqueued').map((e) => e.jobs.map((j) => j.payload)),
    ).toEqual([[1], [4]]);
  });

  it.each([
    [{ key: 42 }, 'unique.key', 'expected a non-empty string'],
    [{ key: '' }, 'unique.key', 'expected a non-empty string'],
    [{ key: 'x'.repeat(256) }, 'unique.key', 'at most 255 characters'],
    [{ key: 'a\u0000b' }, 'unique.key', 'U+0000'],
    [{ key: 'a', by: ['x'] }, 'unique.by', 'cannot be combined with key'],
    [{ by: [] }, 'unique.by', 'non-empty array'],
    [{ states: ['running'] }, 'unique.states', 'include "pending"'],
    [{ states: ['pending', 'done'] }, 'unique.states', '"done" is not one'],
    [
      { states: ['pending', 'completed'] },
      'unique.states',
      'expected "running"',
    ],
    [{ periodMs: 0 }, 'unique.periodMs', 'expected an integer'],
    [{ colour: 'red' }, 'unique.colour', 'unknown option'],
    ['yes', 'unique', 'expected an object'],
  ])(
    'refuses unique %p with InvalidJobsOptionError naming %s, writing nothing',
    async (unique, option, message) => {
      const error = await jobs
        .enqueue('report.any', {}, { unique: unique as never })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as InvalidJobsOptionError).option).toBe(option);
      expect((error as Error).message).toContain(message);
      expect(await count()).toBe(0);
    },
  );

  it('refuses a key derived from fields of a payload that is not an object', async () => {
    const error = await jobs
      .enqueue('report.any', [1, 2], { unique: { by: ['a'] } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJobsOptionError);
    expect((error as Error).message).toContain('payload that is an object');
    expect(await count()).toBe(0);
  });
});
