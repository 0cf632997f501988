import type { MigrationInterface, QueryRunner } from 'typeorm';
import { TABLE_DEFAULTS } from '../jobs-table.options.js';
import { checkIdentifier } from '../../utils/option-checks.js';
import { describeJobsTable, type JobsTable } from '../jobs-table.js';
import {
  addFinishedIndexDdl,
  addRetryPolicyDdl,
  createJobsTableDdl,
  dropFinishedIndexDdl,
  dropJobsTableDdl,
  dropRetryPolicyDdl,
} from './create-jobs-table.ddl.js';

/** A TypeORM migration class (what `DataSourceOptions.migrations` accepts). */
export type JobsMigrationClass = new () => MigrationInterface;

/** The library's migrations, in order; each later one only adds to the earlier ones. */
const STEPS = [
  {
    name: 'NestJobsCreateTable',
    up: createJobsTableDdl,
    down: dropJobsTableDdl,
  },
  {
    name: 'NestJobsAddRetryPolicy',
    up: addRetryPolicyDdl,
    down: dropRetryPolicyDdl,
  },
  {
    name: 'NestJobsAddFinishedIndex',
    up: addFinishedIndexDdl,
    down: dropFinishedIndexDdl,
  },
] as const;

function defineMigration(
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
 * Builds the library's migration classes for a table name and schema. Their timestamps are
 * 1, 2, 3..., so they sort before every application migration (TypeORM rejects a timestamp
 * of 0: it treats it as missing). Every statement is idempotent.
 */
export function createJobsMigrations(
  location: { schema?: string; table?: string } = {},
): JobsMigrationClass[] {
  const schema = checkIdentifier(
    'schema',
    location.schema ?? TABLE_DEFAULTS.schema,
  );
  const table = checkIdentifier(
    'table',
    location.table ?? TABLE_DEFAULTS.table,
  );
  const jobs: JobsTable = describeJobsTable(schema, table);
  const isDefault =
    schema === TABLE_DEFAULTS.schema && table === TABLE_DEFAULTS.table;
  // TypeORM reads the timestamp from the last 13 digits of the name, which must be unique.
  const suffix = isDefault ? '' : `_${schema}_${table}`;
  return STEPS.map((step, index) =>
    defineMigration(
      `${step.name}${suffix}${String(index + 1).padStart(13, '0')}`,
      () => step.up(jobs),
      () => step.down(jobs),
    ),
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
