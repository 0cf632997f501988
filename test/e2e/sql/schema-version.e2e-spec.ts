import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
} from '@jest/globals';
import { Test } from '@nestjs/testing';
import { JobsModule, JobsService } from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import {
  FINISHED_STATUSES,
  JobStatus,
} from '../../../packages/nest-jobs/src/enums/job-status.enum.js';
import { JobsTableMissingError } from '../../../packages/nest-jobs/src/errors/jobs-table-missing.error.js';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../../packages/nest-jobs/src/sql/jobs.repository.js';
import {
  jobsMigrationClasses,
  MIGRATION_DEFINITIONS,
} from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import {
  defineJobsMigration,
  type JobsMigrationDefinition,
} from '../../../packages/nest-jobs/src/sql/migrations/migration-definition.js';
import {
  checkJobsTable,
  migrateJobsTable,
  prepareJobsTable,
} from '../../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import { CapturingLogger } from '../../support/jobs-app.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * No migration 4 exists yet: these tests add a test-only one (a harmless nullable column)
 * to the library's list, to prove how versions from 4 on are recorded and checked.
 */
const addNote = defineJobsMigration({
  version: 4,
  name: 'NestJobsTestAddNote',
  up: (t) => [
    `ALTER TABLE ${t.qualified} ADD COLUMN IF NOT EXISTS test_note text`,
  ],
  down: (t) => [
    `ALTER TABLE IF EXISTS ${t.qualified} DROP COLUMN IF EXISTS test_note`,
  ],
});
const WITH_NOTE = [...MIGRATION_DEFINITIONS, addNote];

describe('schema version of the jobs table', () => {
  const jobs = describeJobsTable('public', 'nest_jobs');
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: JobsRepository;

  beforeAll(async () => {
    db = await createTestDatabase('schema_version');
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

  /** `migrations` whose `up`s note their version in `applied` when they run. */
  function watched(
    migrations: readonly JobsMigrationDefinition[],
    applied: number[],
  ): JobsMigrationDefinition[] {
    return migrations.map((migration) => ({
      ...migration,
      up: (t) => {
        applied.push(migration.version);
        return migration.up(t);
      },
    }));
  }

  /** The start-up path with `runMigrations: true`, for `migrations`. */
  function startWithRunMigrations(
    migrations: readonly JobsMigrationDefinition[],
  ): Promise<void> {
    return prepareJobsTable(
      dataSource,
      repository,
      { runMigrations: true },
      migrations,
    );
  }

  function migrate(
    migrations: readonly JobsMigrationDefinition[],
  ): Promise<void> {
    return migrateJobsTable(dataSource, repository, migrations);
  }

  async function tableComment(): Promise<string | null> {
    const [row] = await db.query(
      `SELECT obj_description('public.nest_jobs'::regclass, 'pg_class') AS comment`,
    );
    return row.comment;
  }

  async function hasNoteColumn(): Promise<boolean> {
    const rows = await db.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'nest_jobs' AND column_name = 'test_note'`,
    );
    return rows.length === 1;
  }

  async function checkError(
    migrations: readonly JobsMigrationDefinition[],
  ): Promise<Error> {
    const error = await checkJobsTable(repository, migrations).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!error) throw new Error('expected the check to fail');
    return error;
  }

  /** Runs `migrations`' TypeORM classes for the default table through `action`. */
  async function throughTypeOrm<T>(
    migrations: readonly JobsMigrationDefinition[],
    action: (migrating: DataSource) => Promise<T>,
  ): Promise<T> {
    const migrating = await new DataSource({
      type: 'postgres',
      url: db.url,
      migrations: jobsMigrationClasses(migrations, jobs),
    }).initialize();
    try {
      return await action(migrating);
    } finally {
      await migrating.destroy();
    }
  }

  it('after every migration, the status CHECK lists JobStatus and the finished index FINISHED_STATUSES', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    const [{ check }] = await db.query(
      `SELECT pg_get_constraintdef(oid) AS check FROM pg_constraint
       WHERE conrelid = 'public.nest_jobs'::regclass AND conname = 'nest_jobs_status_check'`,
    );
    const [{ predicate }] = await db.query(
      `SELECT pg_get_expr(indpred, indrelid) AS predicate FROM pg_index
       WHERE indexrelid = 'public.nest_jobs_finished_idx'::regclass`,
    );
    const literals = (sql: string) =>
      [...sql.matchAll(/'([^']*)'/g)].map((match) => match[1]).sort();
    // A new state joins JobStatus only with a migration that widens the CHECK (and, for a
    // finished state, the finished index): without it this test fails.
    expect(literals(check)).toEqual(Object.values(JobStatus).sort());
    expect(literals(predicate)).toEqual([...FINISHED_STATUSES].sort());
  });

  it('a migration from version 4 on records its version; start-up reads it and passes', async () => {
    const applied: number[] = [];
    await startWithRunMigrations(watched(WITH_NOTE, applied));
    expect(applied).toEqual([1, 2, 3, 4]);
    expect(await tableComment()).toBe('nest-jobs:4');
    expect(await hasNoteColumn()).toBe(true);
    await expect(checkJobsTable(repository, WITH_NOTE)).resolves.toBe(
      undefined,
    );
  });

  it('names the first missing migration of a table at version 3', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    await expect(
      checkJobsTable(repository, MIGRATION_DEFINITIONS),
    ).resolves.toBe(undefined);
    const error = await checkError(WITH_NOTE);
    expect(error).toBeInstanceOf(JobsTableMissingError);
    expect(error.message).toBe(
      'nest-jobs: table "public"."nest_jobs" is at schema version 3 (its comment records no later nest-jobs version). ' +
        'Run the migration NestJobsTestAddNote0000000000004 (add NEST_JOBS_MIGRATIONS to your DataSource "migrations" ' +
        'and run them, or set JobsModule option "runMigrations: true")',
    );
  });

  it('runMigrations applies only the migrations after the current version, and nothing when none is missing', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    const applied: number[] = [];
    const migrations = watched(WITH_NOTE, applied);
    await startWithRunMigrations(migrations);
    expect(applied).toEqual([4]);
    await startWithRunMigrations(migrations);
    expect(applied).toEqual([4]);
  });

  it('concurrent start-ups at version 3 apply migration 4 once (the version is read again under the lock)', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    const applied: number[] = [];
    const migrations = watched(WITH_NOTE, applied);
    // Hold the migration lock, so that all three read version 3 before any of them migrates.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query(
        `SELECT pg_advisory_lock(hashtext('nest-jobs:migrate'))`,
      );
      const migrating = Promise.all([1, 2, 3].map(() => migrate(migrations)));
      await waitFor('three start-ups waiting for the lock', async () => {
        const [{ waiting }] = await db.query(
          `SELECT count(*)::int AS waiting FROM pg_locks
           WHERE locktype = 'advisory' AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        return waiting === 3;
      });
      await holder.query(
        `SELECT pg_advisory_unlock(hashtext('nest-jobs:migrate'))`,
      );
      await migrating;
    } finally {
      await holder.end();
    }
    expect(applied).toEqual([4]);
    expect(await tableComment()).toBe('nest-jobs:4');
  });

  it('through TypeORM, up records 4 and down restores 3', async () => {
    await throughTypeOrm(WITH_NOTE, async (migrating) => {
      expect((await migrating.runMigrations()).map((m) => m.name)).toEqual([
        'NestJobsCreateTable0000000000001',
        'NestJobsAddRetryPolicy0000000000002',
        'NestJobsAddFinishedIndex0000000000003',
        'NestJobsTestAddNote0000000000004',
      ]);
      expect(await tableComment()).toBe('nest-jobs:4');
      await migrating.undoLastMigration();
    });
    // Version 3 had no record: its version is inferred from the catalog again.
    expect(await tableComment()).toBe(null);
    expect(await hasNoteColumn()).toBe(false);
    await expect(
      checkJobsTable(repository, MIGRATION_DEFINITIONS),
    ).resolves.toBe(undefined);
    expect((await checkError(WITH_NOTE)).message).toContain(
      'Run the migration NestJobsTestAddNote0000000000004',
    );
  });

  it('a table at a version newer than the library knows is accepted (a rolling deploy: new instances migrate first)', async () => {
    await migrate(WITH_NOTE);
    const applied: number[] = [];
    // This library's own list ends at 3; the table is at 4.
    await startWithRunMigrations(watched(MIGRATION_DEFINITIONS, applied));
    expect(applied).toEqual([]);
    // The built library, as an instance of the previous release would run it.
    const module = await Test.createTestingModule({
      imports: [
        JobsModule.forRoot({
          dataSource,
          runMigrations: true,
          worker: { enabled: false },
          validateJobNames: false,
        }),
      ],
    })
      .setLogger(new CapturingLogger())
      .compile();
    await module.init();
    try {
      const id = await module.get(JobsService).enqueue('anything', {});
      expect(
        await db.query('SELECT test_note FROM nest_jobs WHERE id = $1', [id]),
      ).toEqual([{ test_note: null }]);
    } finally {
      await module.close();
    }
    expect(await tableComment()).toBe('nest-jobs:4');
  });

  it("an up never lowers a higher record (re-running an older migration's idempotent DDL)", async () => {
    await migrate(WITH_NOTE);
    await db.query(`COMMENT ON TABLE public.nest_jobs IS 'nest-jobs:9'`);
    await throughTypeOrm(WITH_NOTE, async (migrating) => {
      const runner = migrating.createQueryRunner();
      try {
        for (const Migration of migrating.migrations)
          await Migration.up(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await tableComment()).toBe('nest-jobs:9');
    await expect(checkJobsTable(repository, WITH_NOTE)).resolves.toBe(
      undefined,
    );
  });

  it("a comment of the user's own does not break the check, and is kept beside the record", async () => {
    await migrate(MIGRATION_DEFINITIONS);
    await db.query(
      `COMMENT ON TABLE public.nest_jobs IS 'Jobs of the billing app'`,
    );
    await expect(
      checkJobsTable(repository, MIGRATION_DEFINITIONS),
    ).resolves.toBe(undefined);
    expect((await checkError(WITH_NOTE)).message).toContain(
      'is at schema version 3 (its comment records no later nest-jobs version). Run the migration NestJobsTestAddNote0000000000004',
    );

    await migrate(WITH_NOTE);
    expect(await tableComment()).toBe('Jobs of the billing app\nnest-jobs:4');
    await expect(checkJobsTable(repository, WITH_NOTE)).resolves.toBe(
      undefined,
    );

    await throughTypeOrm(WITH_NOTE, async (migrating) => {
      const runner = migrating.createQueryRunner();
      try {
        await migrating.migrations.at(-1)!.down(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await tableComment()).toBe('Jobs of the billing app');
  });
});
