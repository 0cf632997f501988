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
  (m) => m.name === 'NestJobsAddKeyStarts',
);
const MIGRATION = MIGRATION_DEFINITIONS[INDEX]!;
const TYPEORM_NAME = `${MIGRATION.name}${String(MIGRATION.version).padStart(13, '0')}`;
const BEFORE = MIGRATION_DEFINITIONS.slice(0, INDEX);
const THROUGH = MIGRATION_DEFINITIONS.slice(0, INDEX + 1);

describe('migration: starts per key (keyRateLimit)', () => {
  const suite = useTableSuite('key_starts_migration', {
    afterEachSql:
      'DROP TABLE IF EXISTS public.nest_jobs, public.nest_jobs_starts, public.migrations; DROP SEQUENCE IF EXISTS public.nest_jobs_order_seq',
  });
  const { db, throughTypeOrm } = suite;

  const schema = async () => {
    const [state] = await db.query(
      `SELECT (SELECT data_type || ' ' || is_nullable || ' ' || coalesce(collation_name, '')
               FROM information_schema.columns
               WHERE table_name = 'nest_jobs_starts' AND column_name = 'ordering_key') AS "column",
              (SELECT indexdef FROM pg_indexes WHERE indexname = 'nest_jobs_starts_key_idx') AS index`,
    );
    return state as { column: string | null; index: string | null };
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

  it('adds a nullable key to the starts beside the starts of version 11, and a partial index over keyed ones; up and down are idempotent', async () => {
    await migrateJobsTable(suite.dataSource, suite.repository, BEFORE);
    // A start recorded by an instance of version 11.
    await db.query(
      `INSERT INTO nest_jobs_starts (queue, started_at) VALUES ('api', now())`,
    );
    await throughTypeOrm(THROUGH, async (migrating) => {
      const ran = (await migrating.runMigrations()).map((m) => m.name);
      expect(ran.at(-1)).toBe(TYPEORM_NAME);
      const upgraded = await schema();
      expect(upgraded.column).toBe('text YES C');
      expect(upgraded.index).toMatch(
        /nest_jobs_starts .*\(queue, ordering_key, started_at\) WHERE \(ordering_key IS NOT NULL\)/,
      );
      expect(
        await db.query(
          `SELECT queue, ordering_key FROM nest_jobs_starts ORDER BY queue`,
        ),
      ).toEqual([{ queue: 'api', ordering_key: null }]);
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
    expect(await schema()).toEqual({ column: null, index: null });
  });
});
