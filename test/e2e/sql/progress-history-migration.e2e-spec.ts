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
  (m) => m.name === 'NestJobsAddProgressAndHistory',
);
const MIGRATION = MIGRATION_DEFINITIONS[INDEX]!;
const TYPEORM_NAME = `${MIGRATION.name}${String(MIGRATION.version).padStart(13, '0')}`;
const BEFORE = MIGRATION_DEFINITIONS.slice(0, INDEX);
const THROUGH = MIGRATION_DEFINITIONS.slice(0, INDEX + 1);

describe('migration: progress and attempt history columns', () => {
  const suite = useTableSuite('progress_history_migration', {
    afterEachSql: 'DROP TABLE IF EXISTS public.nest_jobs, public.migrations',
  });
  const { db, throughTypeOrm } = suite;

  const columns = async () =>
    (
      await db.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
      }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_name = 'nest_jobs' AND column_name IN ('progress', 'attempt_errors')
         ORDER BY column_name`,
      )
    ).map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`);

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

  it('adds two nullable jsonb columns to a table with rows, without rewriting it; up and down are idempotent', async () => {
    await migrateJobsTable(suite.dataSource, suite.repository, BEFORE);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status, attempts) VALUES ('old', 'pending', 0), ('old', 'failed', 2)`,
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
      expect(await columns()).toEqual([
        'attempt_errors jsonb YES',
        'progress jsonb YES',
      ]);
      expect(
        await db.query(
          'SELECT progress, attempt_errors FROM nest_jobs ORDER BY attempts',
        ),
      ).toEqual([
        { progress: null, attempt_errors: null },
        { progress: null, attempt_errors: null },
      ]);
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
    expect(await columns()).toEqual([]);
    expect(await db.query('SELECT count(*)::int AS n FROM nest_jobs')).toEqual([
      { n: 2 },
    ]);
    await expect(checkJobsTable(suite.repository, BEFORE)).resolves.toBe(
      undefined,
    );
  });
});
