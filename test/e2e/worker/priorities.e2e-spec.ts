import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import {
  InvalidJobsOptionError,
  Job,
  JobsService,
  type JobContext,
} from 'nest-jobs';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { jobClaimQueries } from '../../../packages/nest-jobs/src/sql/queries/job-claim.queries.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitFor } from '../../support/wait-for.js';

/** The payloads in the order the handler ran them. */
class RunOrder {
  readonly seen: string[] = [];
}

@Injectable()
class Ranked {
  constructor(@Inject(RunOrder) private readonly order: RunOrder) {}

  @Job({ name: 'ranked.run', queue: 'ranked', priority: 5 })
  run(payload: { tag: string }, _ctx: JobContext) {
    this.order.seen.push(payload.tag);
  }
}

describe('priorities', () => {
  const suite = useJobsSuite('priorities', { clearJobsAfterEach: true });
  const { db } = suite;

  const producer = (order: RunOrder) =>
    suite.app({
      providers: [Ranked, { provide: RunOrder, useValue: order }],
      jobs: { worker: { enabled: false } },
    });

  it('a worker takes a backlog highest priority first, then in run_at order', async () => {
    const order = new RunOrder();
    const jobs = (await producer(order)).get(JobsService);
    // Due in the past, one second apart: run_at order is the enqueue order.
    const base = Date.now() - 60_000;
    const backlog: Array<[string, number | undefined]> = [
      ['low-1', -10],
      ['default-1', undefined], // the handler's 5
      ['high-1', 100],
      ['zero-1', 0],
      ['low-2', -10],
      ['high-2', 100],
      ['default-2', undefined],
    ];
    for (const [i, [tag, priority]] of backlog.entries())
      await jobs.enqueue(
        'ranked.run',
        { tag },
        { runAt: new Date(base + i * 1000), priority },
      );
    // One job per claim and no claim ahead (two claims out at once may come back in
    // either order), so the claim order is the run order.
    await suite.app({
      providers: [Ranked, { provide: RunOrder, useValue: order }],
      jobs: {
        worker: {
          concurrency: 1,
          batchSize: 1,
          claimAhead: 0,
          pollIntervalMs: 50,
        },
      },
    });
    await waitFor('the backlog to drain', () => order.seen.length === 7);
    expect(order.seen).toEqual([
      'high-1',
      'high-2',
      'default-1',
      'default-2',
      'zero-1',
      'low-1',
      'low-2',
    ]);
  });

  it('stores the handler default and the per-enqueue override, also through enqueueMany', async () => {
    const jobs = (await producer(new RunOrder())).get(JobsService);
    const byDefault = await jobs.enqueue('ranked.run', { tag: 'a' });
    const overridden = await jobs.enqueue(
      'ranked.run',
      { tag: 'b' },
      { priority: -32768 },
    );
    const many = await jobs.enqueueMany([
      { name: 'ranked.run', payload: { tag: 'c' }, priority: 32767 },
      { name: 'ranked.run', payload: { tag: 'd' }, priority: 0 },
    ]);
    const rows = await db.query(
      `SELECT id, priority FROM nest_jobs WHERE id = ANY($1::uuid[])`,
      [[byDefault, overridden, ...many]],
    );
    const priorityOf = new Map(rows.map((r) => [r.id, r.priority]));
    expect(
      [byDefault, overridden, ...many].map((id) => priorityOf.get(id)),
    ).toEqual([5, -32768, 32767, 0]);
  });

  it.each([1.5, 32768, -32769, '1', Number.NaN, null])(
    'refuses priority %p with InvalidJobsOptionError, writing nothing',
    async (priority) => {
      const jobs = (await producer(new RunOrder())).get(JobsService);
      const error = await jobs
        .enqueue('ranked.run', { tag: 'x' }, { priority: priority as never })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as InvalidJobsOptionError).option).toBe('priority');
      expect((error as Error).message).toContain(
        'expected an integer between -32768 and 32767',
      );
      expect(
        (await db.query('SELECT count(*)::int AS n FROM nest_jobs'))[0].n,
      ).toBe(0);
    },
  );

  it('the claim stays an index walk of the claim index on a large table with priorities', async () => {
    await producer(new RunOrder());
    await db.query(
      `INSERT INTO nest_jobs (queue, job_type, priority, run_at)
       SELECT 'big', 'ranked.run', (n % 7) - 3, now() - (n % 1000) * interval '1 second'
       FROM generate_series(1, 200000) AS n`,
    );
    await db.query('ANALYZE nest_jobs');
    // The library's own claim statement, its parameters written in (EXPLAIN runs nothing).
    // $4: not rate limited; $5 is the clock parameter, NULL in production.
    const { text } = jobClaimQueries(
      describeJobsTable('public', 'nest_jobs'),
    ).claim;
    const claim = text
      .replaceAll('$1', "'big'")
      .replaceAll('$2', '100')
      .replaceAll('$3', '30000')
      .replaceAll('$5', 'NULL')
      .replaceAll('$4', 'false');
    const plan = (await db.query(`EXPLAIN ${claim}`))
      .map((row: Record<string, string>) => row['QUERY PLAN'])
      .join('\n');
    expect(plan).toContain('Index Scan using nest_jobs_claim_idx');
    expect(plan).not.toContain('Sort');
    // The plan a prepared claim settles on after five runs: the generic one, which cannot
    // fold the clock parameter away.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET plan_cache_mode = 'force_generic_plan'");
      await client.query(
        `PREPARE generic_claim(text, int, bigint, boolean, timestamptz) AS ${text}`,
      );
      const generic = (
        await client.query(
          "EXPLAIN EXECUTE generic_claim('big', 100, 30000, false, NULL)",
        )
      ).rows
        .map((row: Record<string, string>) => row['QUERY PLAN'])
        .join('\n');
      expect(generic).toContain('Index Scan using nest_jobs_claim_idx');
      expect(generic).not.toContain('Sort');
    } finally {
      await client.end();
    }
  });

  it("a claim reads a level's due jobs only: an idle queue's scheduled jobs are not walked", async () => {
    await producer(new RunOrder());
    // 100,000 jobs scheduled tomorrow over three levels, and three due ones below them.
    await db.query(
      `INSERT INTO nest_jobs (queue, job_type, priority, run_at)
       SELECT 'later', 'ranked.run', n % 3, now() + interval '1 day' + n * interval '1 second'
       FROM generate_series(1, 100000) AS n
       UNION ALL
       SELECT 'later', 'ranked.run', -1, now() - interval '1 minute' FROM generate_series(1, 3)`,
    );
    await db.query('ANALYZE nest_jobs');
    const claim = jobClaimQueries(describeJobsTable('public', 'nest_jobs'))
      .claim.text.replaceAll('$1', "'later'")
      .replaceAll('$2', '20')
      .replaceAll('$3', '30000')
      .replaceAll('$5', 'NULL')
      .replaceAll('$4', 'false');
    await db.query('BEGIN');
    try {
      const [
        {
          'QUERY PLAN': [{ Plan: plan }],
        },
      ] = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claim}`);
      expect(plan['Actual Rows']).toBe(3);
      // Walking the scheduled entries read about 200 index pages here; level by level the
      // whole claim (levels, due rows, their update) reads a few dozen.
      expect(
        plan['Shared Hit Blocks'] + plan['Shared Read Blocks'],
      ).toBeLessThan(100);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
