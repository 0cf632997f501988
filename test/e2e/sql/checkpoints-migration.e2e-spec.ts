import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
} from '@jest/globals';
import { DataSource } from 'typeorm';
import { JobsTableMissingError } from '../../../packages/nest-jobs/src/errors/jobs-table-missing.error.js';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import {
  jobsMigrationClasses,
  MIGRATION_DEFINITIONS,
} from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import {
  checkJobsTable,
  migrateJobsTable,
} from '../../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';

/** Found by name: its number changes when migrations of other features come before it. */
const INDEX = MIGRATION_DEFINITIONS.findIndex(
  (m) => m.name === 'NestJobsAddCheckpoints',
);
const MIGRATION = MIGRATION_DEFINITIONS[INDEX]!;
const TYPEORM_NAME = `${MIGRATION.name}${String(MIGRATION.version).padStart(13, '0')}`;
const BEFORE = MIGRATION_DEFINITIONS.slice(0, INDEX);
const THROUGH = MIGRATION_DEFINITIONS.slice(0, INDEX + 1);

describe('migration: checkpoint and binary payload columns', () => {
  const jobs = describeJobsTable('public', 'nest_jobs');
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: JobsRepository;

  beforeAll(async () => {
    db = await createTestDatabase('checkpoints_migration');
    dataSource = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
    repository = new JobsRepository(dataSource, jobs);
  });
  afterEach(async () => {
    await db.query('DROP TABLE IF EXISTS public.nest_jobs, public.migrations');
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const columns = async () =>
    (
      await db.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
      }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_name = 'nest_jobs' AND column_name IN ('checkpoint', 'payload_bytes')
         ORDER BY column_name`,
      )
    ).map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`);

  it('start-up names it when it is missing', async () => {
    expect(INDEX).toBeGreaterThan(0);
    await migrateJobsTable(dataSource, repository, BEFORE);
    const error = await checkJobsTable(repository, MIGRATION_DEFINITIONS).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(JobsTableMissingError);
    expect(error!.message).toContain(`Run the migration ${TYPEORM_NAME}`);
  });

  it('adds a nullable jsonb and a nullable bytea column to a table with rows, without rewriting it; up and down are idempotent', async () => {
    await migrateJobsTable(dataSource, repository, BEFORE);
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
    const migrating = await new DataSource({
      type: 'postgres',
      url: db.url,
      migrations: jobsMigrationClasses(THROUGH, jobs),
    }).initialize();
    try {
      const ran = (await migrating.runMigrations()).map((m) => m.name);
      expect(ran.at(-1)).toBe(TYPEORM_NAME);
      expect(await storage()).toBe(before);
      expect(await columns()).toEqual([
        'checkpoint jsonb YES',
        'payload_bytes bytea YES',
      ]);
      expect(
        await db.query(
          'SELECT checkpoint, payload_bytes FROM nest_jobs ORDER BY attempts',
        ),
      ).toEqual([
        { checkpoint: null, payload_bytes: null },
        { checkpoint: null, payload_bytes: null },
      ]);
      await expect(checkJobsTable(repository, THROUGH)).resolves.toBe(
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
    } finally {
      await migrating.destroy();
    }
    expect(await columns()).toEqual([]);
    expect(await db.query('SELECT count(*)::int AS n FROM nest_jobs')).toEqual([
      { n: 2 },
    ]);
    await expect(checkJobsTable(repository, BEFORE)).resolves.toBe(undefined);
  });
});
