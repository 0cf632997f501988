import { describe, expect, it } from '@jest/globals';
import { JobsTableMissingError } from '../../../packages/nest-jobs/src/errors/jobs-table-missing.error.js';
import { MIGRATION_DEFINITIONS } from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import {
  checkJobsTable,
  migrateJobsTable,
} from '../../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import { useTableSuite } from '../../support/table-suite.js';

/** Found by name: its number changes when migrations of other features come before it. */
const INDEX = MIGRATION_DEFINITIONS.findIndex(
  (m) => m.name === 'NestJobsAddFlowControl',
);
const MIGRATION = MIGRATION_DEFINITIONS[INDEX]!;
const TYPEORM_NAME = `${MIGRATION.name}${String(MIGRATION.version).padStart(13, '0')}`;
const BEFORE = MIGRATION_DEFINITIONS.slice(0, INDEX);
const THROUGH = MIGRATION_DEFINITIONS.slice(0, INDEX + 1);

describe('migration: flow control (ordering keys, key limits, starts)', () => {
  const suite = useTableSuite('flow_control_migration', {
    afterEachSql:
      'DROP TABLE IF EXISTS public.nest_jobs, public.nest_jobs_starts, public.migrations; DROP SEQUENCE IF EXISTS public.nest_jobs_order_seq',
  });
  const { db, throughTypeOrm } = suite;

  /** The columns, sequence and indexes the migration owns, as they stand. */
  const schema = async () => {
    const columns = (
      await db.query<{ c: string }>(
        `SELECT column_name || ' ' || data_type || ' ' || is_nullable AS c
         FROM information_schema.columns
         WHERE table_name = 'nest_jobs' AND column_name IN ('ordering_key', 'order_seq')
         ORDER BY column_name`,
      )
    ).map((row) => row.c);
    const [relations] = await db.query(
      `SELECT to_regclass('public.nest_jobs_order_seq') IS NOT NULL AS sequence,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_starts_idx') AS starts,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_ordered_idx') AS ordered,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_key_running_idx') AS running,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_key_failed_idx') AS failed,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_keylim_idx') AS limited,
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_keylim_run_idx') AS "limitedRunning"`,
    );
    return { columns, ...relations };
  };

  it('start-up names it when it is missing', async () => {
    expect(INDEX).toBeGreaterThan(0);
    await migrateJobsTable(suite.dataSource, suite.repository, BEFORE);
    const error = await checkJobsTable(
      suite.repository,
      MIGRATION_DEFINITIONS,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(JobsTableMissingError);
    expect(error!.message).toContain(`Run the migration ${TYPEORM_NAME}`);
  });

  it('adds two nullable columns, a sequence and three partial indexes beside rows, without rewriting the table; up and down are idempotent', async () => {
    await migrateJobsTable(suite.dataSource, suite.repository, BEFORE);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status, attempts) VALUES ('old', 'pending', 0), ('old', 'running', 1), ('old', 'failed', 2)`,
    );
    const storage = async () =>
      (
        await db.query(
          `SELECT pg_relation_filenode('public.nest_jobs') AS filenode`,
        )
      )[0].filenode;
    const before = await storage();
    await throughTypeOrm(THROUGH, async (migrating) => {
      const ran = (await migrating.runMigrations()).map((m) => m.name);
      expect(ran.at(-1)).toBe(TYPEORM_NAME);
      expect(await storage()).toBe(before);
      const upgraded = await schema();
      expect(upgraded.columns).toEqual([
        'order_seq bigint YES',
        'ordering_key text YES',
      ]);
      expect(upgraded.sequence).toBe(true);
      expect(upgraded.starts).toMatch(
        /nest_jobs_starts .*\(queue, started_at\)/,
      );
      expect(upgraded.ordered).toMatch(
        /\(queue, ordering_key, order_seq\) WHERE .*status.*'pending'.*ordering_key IS NOT NULL/,
      );
      expect(upgraded.running).toMatch(
        /UNIQUE INDEX .*\(queue, ordering_key\) WHERE .*'running'.*ordering_key IS NOT NULL/,
      );
      expect(upgraded.failed).toMatch(
        /\(queue, ordering_key, order_seq\) WHERE .*'failed'.*ordering_key IS NOT NULL/,
      );
      expect(upgraded.limited).toMatch(
        /\(queue, ordering_key, run_at\) WHERE .*'pending'.*ordering_key IS NOT NULL.*order_seq IS NULL/,
      );
      expect(upgraded.limitedRunning).toMatch(
        /\(queue, ordering_key\) WHERE .*'running'.*ordering_key IS NOT NULL.*order_seq IS NULL/,
      );
      // The old rows have no key: the partial indexes hold none of them.
      expect(
        await db.query(
          `SELECT count(*)::int AS n FROM nest_jobs WHERE ordering_key IS NULL AND order_seq IS NULL`,
        ),
      ).toEqual([{ n: 3 }]);
      // Two running jobs of one key are refused by the database itself.
      await db.query(
        `INSERT INTO nest_jobs (job_type, status, queue, ordering_key, order_seq) VALUES ('k', 'running', 'q', 'a', 1)`,
      );
      await expect(
        db.query(
          `INSERT INTO nest_jobs (job_type, status, queue, ordering_key, order_seq) VALUES ('k', 'running', 'q', 'a', 2)`,
        ),
      ).rejects.toMatchObject({
        code: '23505',
        constraint: 'nest_jobs_key_running_idx',
      });
      // Running jobs of a key-limited queue (no order_seq) are not held to one per key.
      await db.query(
        `INSERT INTO nest_jobs (job_type, status, queue, ordering_key, order_seq) VALUES
           ('k', 'running', 'other', 'a', 3), ('k', 'pending', 'q', 'a', 4),
           ('k', 'running', 'q', 'a', NULL), ('k', 'running', 'q', 'a', NULL)`,
      );
      await db.query(`DELETE FROM nest_jobs WHERE ordering_key IS NOT NULL`);
      await expect(checkJobsTable(suite.repository, THROUGH)).resolves.toBe(
        undefined,
      );
      const runner = migrating.createQueryRunner();
      try {
        const migration = migrating.migrations.at(-1)!;
        await migration.up(runner);
        await migration.down(runner);
        await migration.down(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await schema()).toEqual({
      columns: [],
      sequence: false,
      starts: null,
      ordered: null,
      running: null,
      failed: null,
      limited: null,
      limitedRunning: null,
    });
    expect(await db.query('SELECT count(*)::int AS n FROM nest_jobs')).toEqual([
      { n: 3 },
    ]);
    await expect(checkJobsTable(suite.repository, BEFORE)).resolves.toBe(
      undefined,
    );
  });
});
