import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  checkSchemaName,
  checkTableName,
  TABLE_DEFAULTS,
} from '../jobs-table.options.js';
import { describeJobsTable, type JobsTable } from '../jobs-table.js';
import { createTable } from './0001-create-table.js';
import { addRetryPolicy } from './0002-add-retry-policy.js';
import { addFinishedIndex } from './0003-add-finished-index.js';
import { addReleases } from './0004-add-releases.js';
import { addUniqueAndPriority } from './0005-add-unique-and-priority.js';
import { addProgressAndHistory } from './0006-add-progress-and-history.js';
import { addCancelled } from './0007-add-cancelled.js';
import { addQueuesAndFailedIndex } from './0008-add-queues-and-failed-index.js';
import { addSchedules } from './0009-add-schedules.js';
import { addCheckpoints } from './0010-add-checkpoints.js';
import { addFlowControl } from './0011-add-flow-control.js';
import { addKeyStarts } from './0012-add-key-starts.js';
import type { JobsMigrationDefinition } from './migration-definition.js';

/** A TypeORM migration class (what `DataSourceOptions.migrations` accepts). */
export type JobsMigrationClass = new () => MigrationInterface;

/**
 * The library's migrations, in order; each later one only adds to the earlier ones.
 * Adding a migration is one file `000N-<what>.ts` (defineJobsMigration with version N)
 * and one line here: its TypeORM class, the version it records in the table's comment,
 * the start-up check and `runMigrations` all derive from this list, and NEST_JOBS_MIGRATIONS
 * carries it to users (the named class exports below are only for versions 1 to 3).
 */
export const MIGRATION_DEFINITIONS: readonly JobsMigrationDefinition[] = [
  createTable,
  addRetryPolicy,
  addFinishedIndex,
  addReleases,
  addUniqueAndPriority,
  addProgressAndHistory,
  addCancelled,
  addQueuesAndFailedIndex,
  addSchedules,
  addCheckpoints,
  addFlowControl,
  addKeyStarts,
];

/**
 * The name of `migration`'s TypeORM class for the table `jobs`: its timestamp is its version
 * (1, 2, 3...), so the library's migrations sort before every application migration
 * (TypeORM rejects a timestamp of 0: it treats it as missing). Users have these names
 * recorded in their migrations tables: they must never change.
 */
export function typeOrmMigrationName(
  migration: JobsMigrationDefinition,
  jobs: JobsTable,
): string {
  const isDefault =
    jobs.schema === TABLE_DEFAULTS.schema &&
    jobs.table === TABLE_DEFAULTS.table;
  // TypeORM reads the timestamp from the last 13 digits of the name, which must be unique.
  const suffix = isDefault ? '' : `_${jobs.schema}_${jobs.table}`;
  return `${migration.name}${suffix}${String(migration.version).padStart(13, '0')}`;
}

/** TypeORM classes of `migrations` (the library's list, or a test's) for the table `jobs`. */
export function jobsMigrationClasses(
  migrations: readonly JobsMigrationDefinition[],
  jobs: JobsTable,
): JobsMigrationClass[] {
  return migrations.map((migration, index) => {
    // The version is the timestamp and the place in the list: a gap or a swap would
    // misname the migration that start-up asks for, and apply the wrong ones.
    if (migration.version !== index + 1)
      throw new Error(
        `nest-jobs: migration ${migration.name} has version ${migration.version} at position ${index + 1} of the list`,
      );
    return typeOrmMigration(
      typeOrmMigrationName(migration, jobs),
      () => migration.up(jobs),
      () => migration.down(jobs),
    );
  });
}

function typeOrmMigration(
  name: string,
  up: () => string[],
  down: () => string[],
): JobsMigrationClass {
  const run = async (queryRunner: QueryRunner, statements: string[]) => {
    for (const statement of statements) await queryRunner.query(statement);
  };
  return class implements MigrationInterface {
    readonly name = name;
    up(queryRunner: QueryRunner) {
      return run(queryRunner, up());
    }
    down(queryRunner: QueryRunner) {
      return run(queryRunner, down());
    }
  };
}

/**
 * Builds the library's migration classes for a table name and schema (timestamps 1, 2,
 * 3..., see typeOrmMigrationName). Every statement is idempotent.
 */
export function createJobsMigrations(
  location: { schema?: string; table?: string } = {},
): JobsMigrationClass[] {
  const schema = checkSchemaName(location.schema ?? TABLE_DEFAULTS.schema);
  const table = checkTableName(location.table ?? TABLE_DEFAULTS.table);
  return jobsMigrationClasses(
    MIGRATION_DEFINITIONS,
    describeJobsTable(schema, table),
  );
}

/** The migrations for the default table `public.nest_jobs`, in order. */
export const NEST_JOBS_MIGRATIONS = createJobsMigrations();

/** Creates `public.nest_jobs` with its indexes (timestamp 1). */
export const NestJobsCreateTable0000000000001 = NEST_JOBS_MIGRATIONS[0]!;

/** Adds the `retry_policy` column (timestamp 2). */
export const NestJobsAddRetryPolicy0000000000002 = NEST_JOBS_MIGRATIONS[1]!;

/** Adds the index that serves retention sweeps (timestamp 3). */
export const NestJobsAddFinishedIndex0000000000003 = NEST_JOBS_MIGRATIONS[2]!;
