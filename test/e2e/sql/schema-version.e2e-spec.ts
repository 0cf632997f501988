import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { JobsModule, JobsService } from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import {
  FINISHED_STATUSES,
  JobStatus,
} from '../../../packages/nest-jobs/src/enums/job-status.enum.js';
import { JobsTableMissingError } from '../../../packages/nest-jobs/src/errors/jobs-table-missing.error.js';
import { MIGRATION_DEFINITIONS } from '../../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
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
import { useTableSuite } from '../../support/table-suite.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * These tests add a test-only migration (a harmless nullable column) after the library's
 * last one, to prove how recorded versions are checked whatever the library's list holds.
 */
const LIBRARY_VERSION = MIGRATION_DEFINITIONS.length;
const NOTE_VERSION = LIBRARY_VERSION + 1;
/** The library's migrations up to the one that added `releases` (its test runs only those). */
const UP_TO_RELEASES = MIGRATION_DEFINITIONS.slice(
  0,
  MIGRATION_DEFINITIONS.findIndex((m) => m.name === 'NestJobsAddReleases') + 1,
);
/** TypeORM's names of the library's migrations for the default table, in order. */
const libraryMigrationNames = (definitions = MIGRATION_DEFINITIONS) =>
  definitions.map((m) => `${m.name}${String(m.version).padStart(13, '0')}`);
const NOTE_MIGRATION = `NestJobsTestAddNote${String(NOTE_VERSION).padStart(13, '0')}`;
const addNote = defineJobsMigration({
  version: NOTE_VERSION,
  name: 'NestJobsTestAddNote',
  up: (t) => [
    `ALTER TABLE ${t.qualified} ADD COLUMN IF NOT EXISTS test_note text`,
  ],
  down: (t) => [
    `ALTER TABLE IF EXISTS ${t.qualified} DROP COLUMN IF EXISTS test_note`,
  ],
});
const WITH_NOTE = [...MIGRATION_DEFINITIONS, addNote];
/** The migrations of tables from before versions were recorded in the comment. */
const UNRECORDED = MIGRATION_DEFINITIONS.slice(0, 3);

describe('schema version of the jobs table', () => {
  const suite = useTableSuite('schema_version', {
    afterEachSql:
      'DROP TABLE IF EXISTS public.nest_jobs, public.nest_jobs_queues, public.migrations',
  });
  const { db, jobs, throughTypeOrm } = suite;

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
      suite.dataSource,
      suite.repository,
      { runMigrations: true },
      migrations,
    );
  }

  function migrate(
    migrations: readonly JobsMigrationDefinition[],
  ): Promise<void> {
    return migrateJobsTable(suite.dataSource, suite.repository, migrations);
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
    const error = await checkJobsTable(suite.repository, migrations).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!error) throw new Error('expected the check to fail');
    return error;
  }

  it('after every migration, the status CHECK lists JobStatus and the finished index FINISHED_STATUSES', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    const [{ check }] = await db.query(
      `SELECT pg_get_constraintdef(oid) AS check FROM pg_constraint
       WHERE conrelid = 'public.nest_jobs'::regclass AND conname = 'nest_jobs_status_check'`,
    );
    // The finished index of version 3 and the cancelled index of the cancelled state.
    const [{ predicate }] = await db.query(
      `SELECT string_agg(pg_get_expr(indpred, indrelid), ' ') AS predicate FROM pg_index
       WHERE indexrelid IN ('public.nest_jobs_finished_idx'::regclass,
                            'public.nest_jobs_cancelled_idx'::regclass)`,
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
    expect(applied).toEqual(WITH_NOTE.map((m) => m.version));
    expect(await tableComment()).toBe(`nest-jobs:${NOTE_VERSION}`);
    expect(await hasNoteColumn()).toBe(true);
    await expect(checkJobsTable(suite.repository, WITH_NOTE)).resolves.toBe(
      undefined,
    );
  });

  it('names the first missing migration of a table at version 3 (migration 4, the release count)', async () => {
    await migrate(UNRECORDED);
    await expect(checkJobsTable(suite.repository, UNRECORDED)).resolves.toBe(
      undefined,
    );
    const error = await checkError(MIGRATION_DEFINITIONS);
    expect(error).toBeInstanceOf(JobsTableMissingError);
    expect(error.message).toBe(
      'nest-jobs: table "public"."nest_jobs" is at schema version 3 (its comment records no later nest-jobs version). ' +
        'Run the migration NestJobsAddReleases0000000000004 (add NEST_JOBS_MIGRATIONS to your DataSource "migrations" ' +
        'and run them, or set JobsModule option "runMigrations: true")',
    );
  });

  it('names the first missing migration of a table at a recorded version', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    await expect(
      checkJobsTable(suite.repository, MIGRATION_DEFINITIONS),
    ).resolves.toBe(undefined);
    expect((await checkError(WITH_NOTE)).message).toContain(
      `table "public"."nest_jobs" records schema version ${LIBRARY_VERSION} in its comment. Run the migration ${NOTE_MIGRATION}`,
    );
  });

  it('migration 4 adds releases (0) to a table with rows, without rewriting it; up and down are idempotent', async () => {
    await migrate(UNRECORDED);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status, attempts) VALUES ('old', 'pending', 0), ('old', 'running', 2)`,
    );
    const storage = async () =>
      (
        await db.query(
          `SELECT pg_relation_filenode('public.nest_jobs') AS filenode`,
        )
      )[0].filenode;
    const before = await storage();
    await throughTypeOrm(UP_TO_RELEASES, async (migrating) => {
      // TypeORM has no record of the first three: their idempotent DDL runs again.
      expect((await migrating.runMigrations()).map((m) => m.name)).toEqual(
        libraryMigrationNames(UP_TO_RELEASES),
      );
      expect(await storage()).toBe(before);
      expect(await tableComment()).toBe('nest-jobs:4');
      expect(
        await db.query(
          'SELECT attempts, releases FROM nest_jobs ORDER BY attempts',
        ),
      ).toEqual([
        { attempts: 0, releases: 0 },
        { attempts: 2, releases: 0 },
      ]);
      const runner = migrating.createQueryRunner();
      try {
        const addReleases = migrating.migrations.at(-1)!;
        await addReleases.up(runner);
        expect(await tableComment()).toBe('nest-jobs:4');
        await addReleases.down(runner);
        await addReleases.down(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await tableComment()).toBe(null);
    expect(
      await db.query(
        `SELECT column_name FROM information_schema.columns
         WHERE table_name = 'nest_jobs' AND column_name = 'releases'`,
      ),
    ).toEqual([]);
    expect((await checkError(UP_TO_RELEASES)).message).toContain(
      'Run the migration NestJobsAddReleases0000000000004',
    );
  });

  it('the queues-and-failed-index migration upgrades a table with rows in place, is idempotent and reverts; start-up names it when missing', async () => {
    const index = MIGRATION_DEFINITIONS.findIndex(
      (migration) => migration.name === 'NestJobsAddQueuesAndFailedIndex',
    );
    const before = MIGRATION_DEFINITIONS.slice(0, index);
    const migration = MIGRATION_DEFINITIONS[index]!;
    await migrate(before);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status) VALUES ('old', 'pending'), ('old', 'failed')`,
    );
    const filenode = async () =>
      (
        await db.query(
          `SELECT pg_relation_filenode('public.nest_jobs') AS filenode`,
        )
      )[0].filenode;
    const storage = await filenode();
    expect((await checkError(MIGRATION_DEFINITIONS)).message).toContain(
      `Run the migration ${libraryMigrationNames()[index]}`,
    );
    await migrate(MIGRATION_DEFINITIONS.slice(0, index + 1));
    const upgraded = async () =>
      (
        await db.query(
          `SELECT to_regclass('public.nest_jobs_queues') IS NOT NULL AS queues,
                  to_regclass('public.nest_jobs_failed_idx') IS NOT NULL AS failed_idx`,
        )
      )[0];
    expect(await upgraded()).toEqual({ queues: true, failed_idx: true });
    expect(await filenode()).toBe(storage);
    for (const ddl of migration.up(jobs)) await db.query(ddl);
    expect(await tableComment()).toBe(`nest-jobs:${migration.version}`);
    for (const ddl of [...migration.down(jobs), ...migration.down(jobs)])
      await db.query(ddl);
    expect(await upgraded()).toEqual({ queues: false, failed_idx: false });
    expect(await tableComment()).toBe(`nest-jobs:${migration.version - 1}`);
    expect(await db.query('SELECT count(*)::int AS n FROM nest_jobs')).toEqual([
      { n: 2 },
    ]);
  });

  it('the schedules migration adds its table and index beside a table with rows, is idempotent and reverts; start-up names it when missing', async () => {
    const index = MIGRATION_DEFINITIONS.findIndex(
      (migration) => migration.name === 'NestJobsAddSchedules',
    );
    const migration = MIGRATION_DEFINITIONS[index]!;
    await migrate(MIGRATION_DEFINITIONS.slice(0, index));
    await db.query(`INSERT INTO nest_jobs (job_type) VALUES ('old')`);
    expect((await checkError(MIGRATION_DEFINITIONS)).message).toContain(
      `Run the migration ${libraryMigrationNames()[index]}`,
    );
    await migrate(MIGRATION_DEFINITIONS.slice(0, index + 1));
    const upgraded = async () =>
      (
        await db.query(
          `SELECT to_regclass('public.nest_jobs_schedules') IS NOT NULL AS schedules,
                  to_regclass('public.nest_jobs_schedules_due_idx') IS NOT NULL AS due_idx`,
        )
      )[0];
    expect(await upgraded()).toEqual({ schedules: true, due_idx: true });
    await db.query(
      `INSERT INTO nest_jobs_schedules (name, job_type, cron, time_zone) VALUES ('s', 'old', '* * * * *', 'UTC')`,
    );
    for (const ddl of migration.up(jobs)) await db.query(ddl);
    expect(await tableComment()).toBe(`nest-jobs:${migration.version}`);
    expect(
      await db.query('SELECT count(*)::int AS n FROM nest_jobs_schedules'),
    ).toEqual([{ n: 1 }]);
    for (const ddl of [...migration.down(jobs), ...migration.down(jobs)])
      await db.query(ddl);
    expect(await upgraded()).toEqual({ schedules: false, due_idx: false });
    expect(await tableComment()).toBe(`nest-jobs:${migration.version - 1}`);
    expect(await db.query('SELECT count(*)::int AS n FROM nest_jobs')).toEqual([
      { n: 1 },
    ]);
  });

  it('runMigrations applies only the migrations after the current version, and nothing when none is missing', async () => {
    await migrate(MIGRATION_DEFINITIONS);
    const applied: number[] = [];
    const migrations = watched(WITH_NOTE, applied);
    await startWithRunMigrations(migrations);
    expect(applied).toEqual([NOTE_VERSION]);
    await startWithRunMigrations(migrations);
    expect(applied).toEqual([NOTE_VERSION]);
  });

  it('concurrent start-ups apply a missing migration once (the version is read again under the lock)', async () => {
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
    expect(applied).toEqual([NOTE_VERSION]);
    expect(await tableComment()).toBe(`nest-jobs:${NOTE_VERSION}`);
  });

  it('the cancelled state upgrades a table with rows in place; up and down are idempotent, down records cancelled rows as failed', async () => {
    await migrate(UP_TO_RELEASES);
    await db.query(
      `INSERT INTO nest_jobs (job_type, status) VALUES ('old', 'pending'), ('old', 'running')`,
    );
    const storage = async () =>
      (
        await db.query(
          `SELECT pg_relation_filenode('public.nest_jobs') AS filenode`,
        )
      )[0].filenode;
    const before = await storage();
    const insertCancelled = () =>
      db.query(
        `INSERT INTO nest_jobs (job_type, status, finished_at) VALUES ('new', 'cancelled', now())`,
      );
    await expect(insertCancelled()).rejects.toThrow(/status_check/);
    const addCancelled = MIGRATION_DEFINITIONS.findIndex(
      (m) => m.name === 'NestJobsAddCancelled',
    );
    expect(addCancelled).toBeGreaterThan(0);
    await throughTypeOrm(
      MIGRATION_DEFINITIONS.slice(0, addCancelled + 1),
      async (migrating) => {
        await migrating.runMigrations();
        expect(await storage()).toBe(before);
        await insertCancelled();
        const runner = migrating.createQueryRunner();
        try {
          const migration = migrating.migrations.at(-1)!;
          await migration.up(runner);
          await insertCancelled();
          await migration.down(runner);
          await migration.down(runner);
          expect(
            await db.query(
              `SELECT status, last_error FROM nest_jobs WHERE job_type = 'new'`,
            ),
          ).toEqual([
            {
              status: 'failed',
              last_error:
                'Cancelled (recorded as failed when nest-jobs was migrated down)',
            },
            {
              status: 'failed',
              last_error:
                'Cancelled (recorded as failed when nest-jobs was migrated down)',
            },
          ]);
          await expect(insertCancelled()).rejects.toThrow(/status_check/);
          await migration.up(runner);
          await insertCancelled();
        } finally {
          await runner.release();
        }
      },
    );
  });

  it('through TypeORM, up records each version and down restores the previous one', async () => {
    await throughTypeOrm(WITH_NOTE, async (migrating) => {
      expect((await migrating.runMigrations()).map((m) => m.name)).toEqual([
        ...libraryMigrationNames(),
        NOTE_MIGRATION,
      ]);
      expect(await tableComment()).toBe(`nest-jobs:${NOTE_VERSION}`);
      await migrating.undoLastMigration();
      expect(await tableComment()).toBe(`nest-jobs:${LIBRARY_VERSION}`);
      expect(await hasNoteColumn()).toBe(false);
      await expect(
        checkJobsTable(suite.repository, MIGRATION_DEFINITIONS),
      ).resolves.toBe(undefined);
      expect((await checkError(WITH_NOTE)).message).toContain(
        `Run the migration ${NOTE_MIGRATION}`,
      );
      // Down to version 3, which had no record.
      for (let v = LIBRARY_VERSION; v > 3; v -= 1)
        await migrating.undoLastMigration();
    });
    // Version 3 had no record: its version is inferred from the catalog again.
    expect(await tableComment()).toBe(null);
    await expect(checkJobsTable(suite.repository, UNRECORDED)).resolves.toBe(
      undefined,
    );
    expect((await checkError(MIGRATION_DEFINITIONS)).message).toContain(
      'Run the migration NestJobsAddReleases0000000000004',
    );
  });

  it('a table at a version newer than the library knows is accepted (a rolling deploy: new instances migrate first)', async () => {
    await migrate(WITH_NOTE);
    const applied: number[] = [];
    // This library's own list ends one version before the table's.
    await startWithRunMigrations(watched(MIGRATION_DEFINITIONS, applied));
    expect(applied).toEqual([]);
    // The built library, as an instance of the previous release would run it.
    const module = await Test.createTestingModule({
      imports: [
        JobsModule.forRoot({
          dataSource: suite.dataSource,
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
    expect(await tableComment()).toBe(`nest-jobs:${NOTE_VERSION}`);
  });

  it("an up never lowers a higher record (re-running an older migration's idempotent DDL)", async () => {
    await migrate(WITH_NOTE);
    await db.query(
      `COMMENT ON TABLE public.nest_jobs IS 'nest-jobs:${NOTE_VERSION}'`,
    );
    await throughTypeOrm(WITH_NOTE, async (migrating) => {
      const runner = migrating.createQueryRunner();
      try {
        for (const Migration of migrating.migrations)
          await Migration.up(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await tableComment()).toBe(`nest-jobs:${NOTE_VERSION}`);
    await expect(checkJobsTable(suite.repository, WITH_NOTE)).resolves.toBe(
      undefined,
    );
  });

  it("a comment of the user's own does not break the check, and is kept beside the record", async () => {
    await migrate(UNRECORDED);
    await db.query(
      `COMMENT ON TABLE public.nest_jobs IS 'Jobs of the billing app'`,
    );
    await expect(checkJobsTable(suite.repository, UNRECORDED)).resolves.toBe(
      undefined,
    );
    expect((await checkError(MIGRATION_DEFINITIONS)).message).toContain(
      'is at schema version 3 (its comment records no later nest-jobs version). Run the migration NestJobsAddReleases0000000000004',
    );

    await migrate(MIGRATION_DEFINITIONS);
    expect(await tableComment()).toBe(
      `Jobs of the billing app\nnest-jobs:${LIBRARY_VERSION}`,
    );
    await expect(
      checkJobsTable(suite.repository, MIGRATION_DEFINITIONS),
    ).resolves.toBe(undefined);

    // Down of the first recorded migration (the one that added releases) removes the record.
    await throughTypeOrm(UP_TO_RELEASES, async (migrating) => {
      const runner = migrating.createQueryRunner();
      try {
        // Down to version 3, which had no record.
        for (const migration of migrating.migrations.slice(3).reverse())
          await migration.down(runner);
      } finally {
        await runner.release();
      }
    });
    expect(await tableComment()).toBe('Jobs of the billing app');
  });
});
