import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import type { AttemptRef } from '../../../packages/nest-jobs/src/sql/job-rows.js';
import { MIGRATION_DEFINITIONS } from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import { migrateJobsTable } from '../../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import type {
  PgPool,
  PgPoolClient,
} from '../../../packages/nest-jobs/src/sql/sql-runner.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';

/** pg's own conversion of a parameter to its text form (arrays, dates). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): string | null;
};

const QUEUE = 'plans';
const LEASE_MS = 600_000;
/** Jobs claimed and completed before the plans are read: dead entries of the lease index. */
const HISTORY = 40_000;
const CLAIM_BATCH = 2_000;
/** Attempts held while the plans are read: one large outcome batch. */
const HELD = 2_000;
const PRIMARY_KEY = 'nest_jobs_pkey';

type PlanCacheMode = 'force_custom_plan' | 'force_generic_plan';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, depth first. */
function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/**
 * A pool the repository sends its statements to that plans them instead of running them:
 * each statement, with the exact text and parameters the repository sent, is prepared on a
 * connection of its own and EXPLAINed through EXECUTE under `plan_cache_mode`, so the plan is
 * the one PostgreSQL would run (custom: planned with the values; generic: without them).
 */
class PlanningPool implements PgPool {
  readonly plans: { text: string; plan: PlanNode }[] = [];

  constructor(
    private readonly client: pg.Client,
    private readonly mode: PlanCacheMode,
  ) {}

  async query(config: { name?: string; text: string; values?: unknown[] }) {
    // EXECUTE takes no bound parameters: the values go in as literals, in the text form
    // pg would have sent them.
    const literals = (config.values ?? []).map((value) => {
      const text = prepareValue(value);
      return text === null ? 'NULL' : this.client.escapeLiteral(text);
    });
    await this.client.query(`SET plan_cache_mode = ${this.mode}`);
    await this.client.query(`PREPARE planned AS ${config.text}`);
    try {
      const [row] = (
        await this.client.query(
          `EXPLAIN (FORMAT JSON) EXECUTE planned${literals.length > 0 ? `(${literals.join(', ')})` : ''}`,
        )
      ).rows;
      this.plans.push({ text: config.text, plan: row['QUERY PLAN'][0].Plan });
    } finally {
      await this.client.query('DEALLOCATE planned');
    }
    return { rows: [], rowCount: 0 };
  }

  connect(): Promise<PgPoolClient> {
    return Promise.reject(
      new Error('PlanningPool plans single statements only'),
    );
  }
}

/**
 * Outcome writes (complete, fail, requeue, progress, cancel-own, heartbeat, release) reach
 * the rows they change through the primary key, one probe per id, whatever the state of
 * the running-lease partial index. With autovacuum off that index keeps an entry for every
 * attempt ever claimed; a completion planned onto it (a bitmap scan of it and a hash join
 * to the ids) read all of them on every batch.
 */
describe('outcome writes are planned through the primary key', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: JobsRepository;
  let client: pg.Client;
  let held: AttemptRef[];

  beforeAll(async () => {
    db = await createTestDatabase('outcome_plans');
    dataSource = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
    repository = new JobsRepository(
      dataSource,
      describeJobsTable('public', 'nest_jobs'),
    );
    await migrateJobsTable(dataSource, repository, MIGRATION_DEFINITIONS);
    // As this project's servers run: nothing cleans dead entries during the run. The
    // statistics are those of the empty table, as after a migration.
    await db.query(
      'ALTER TABLE nest_jobs SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)',
    );
    await db.query('ANALYZE nest_jobs');
    // Set-based rows (this test is about plans, not enqueues), then a history of attempts
    // claimed and completed by the library's own statements.
    await db.query(
      `INSERT INTO nest_jobs (queue, job_type)
       SELECT $1, 'planned' FROM generate_series(1, $2::int)`,
      [QUEUE, HISTORY + HELD],
    );
    for (let done = 0; done < HISTORY; done += CLAIM_BATCH) {
      const claimed = await repository.claim(QUEUE, CLAIM_BATCH, LEASE_MS);
      expect(claimed).toHaveLength(CLAIM_BATCH);
      expect(await repository.complete(claimed.map(refOf))).toBe(CLAIM_BATCH);
    }
    held = (await repository.claim(QUEUE, HELD, LEASE_MS)).map(refOf);
    expect(held).toHaveLength(HELD);
    const [lease] = await db.query<{ entries: string }>(
      `SELECT count(*) AS entries FROM nest_jobs
       WHERE status = 'running' AND locked_until IS NOT NULL`,
    );
    expect(Number(lease!.entries)).toBe(HELD);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, 180_000);

  afterAll(async () => {
    await client?.end();
    await dataSource?.destroy();
    await db?.drop();
  });

  function refOf(row: AttemptRef): AttemptRef {
    return { id: row.id, attempt: row.attempt, releases: row.releases };
  }

  /** Sends every outcome write of `held` through a PlanningPool; returns its plans. */
  async function planEveryOutcome(mode: PlanCacheMode) {
    const pool = new PlanningPool(client, mode);
    const planned = repository.through(pool);
    await planned.complete(held);
    await planned.complete(held, true);
    await planned.fail(
      held.map((ref, i) => ({
        ...ref,
        error: 'boom',
        retryInMs: i % 2 === 0 ? 1_000 : null,
      })),
    );
    await planned.requeue(
      held.map((ref, i) => ({
        ...ref,
        runAt: i % 2 === 0 ? new Date() : null,
        delayMs: 1_000,
        fresh: i % 2 === 0,
      })),
    );
    await planned.writeProgress(
      held,
      held.map(() => '{"done":1}'),
    );
    await planned.cancelOwn(
      held,
      held.map(() => 'cancelled by its handler'),
    );
    await planned.heartbeat(held, LEASE_MS);
    await planned.release(held, 'Worker is shutting down');
    return pool.plans;
  }

  it.each<PlanCacheMode>(['force_custom_plan', 'force_generic_plan'])(
    'every outcome write probes the primary key per id (%s)',
    async (mode) => {
      const plans = await planEveryOutcome(mode);
      expect(plans.map(({ text }) => /nest-jobs:(\w+)/.exec(text)![1])).toEqual(
        [
          'complete',
          'complete',
          'fail',
          'requeue',
          'write_progress',
          'cancel_own',
          'heartbeat',
          'release',
        ],
      );
      for (const { text, plan } of plans) {
        const nodes = nodesOf(plan);
        const tableScans = nodes.filter(
          (node) => node['Relation Name'] === 'nest_jobs',
        );
        const shape = nodes.map(
          (node) =>
            `${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`,
        );
        // With the statement in the failure message: a nested loop over the ids, and no
        // hash join, bitmap scan (of the lease index or any other) or sequential scan.
        expect({ text, shape }).toEqual({
          text,
          shape: expect.arrayContaining(['Nested Loop']),
        });
        expect({
          text,
          avoided: shape.filter((node) =>
            /^(Hash Join|Bitmap|Seq Scan|Merge Join)/.test(node),
          ),
        }).toEqual({ text, avoided: [] });
        // The table is read by the primary key, one id at a time: once, or by the
        // heartbeat three times (the rows it may lock without waiting, their renewal, the
        // rows left locked by a handler's transaction); the update itself is the
        // ModifyTable node.
        const reads = tableScans
          .filter((node) => node['Node Type'] !== 'ModifyTable')
          .map((node) => `${node['Node Type']} on ${node['Index Name']}`);
        const expectedReads = text.includes('nest-jobs:heartbeat') ? 3 : 1;
        expect({ text, reads }).toEqual({
          text,
          reads: Array(expectedReads).fill(`Index Scan on ${PRIMARY_KEY}`),
        });
      }
    },
  );
});
