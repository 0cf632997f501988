import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULTS } from '../../jobs.constants.js';
import { checkIdentifier } from '../../utils/option-checks.js';
import { describeJobsTable, type JobsTable } from '../jobs-table.js';
import {
  addRetryPolicyDdl,
  createJobsTableDdl,
  dropJobsTableDdl,
  dropRetryPolicyDdl,
} from './create-jobs-table.ddl.js';

/** A TypeORM migration class (what `DataSourceOptions.migrations` accepts). */
export type JobsMigrationClass = new () => MigrationInterface;

async function runAll(
  queryRunner: QueryRunner,
  statements: string[],
): Promise<void> {
  for (const statement of statements) await queryRunner.query(statement);
}

/**
 * Builds the library's migration classes for a table name and schema. Their timestamps are
 * 1 and 2, so they sort before every application migration (TypeORM rejects a timestamp
 * of 0: it treats it as missing).
 */
export function createJobsMigrations(
  location: { schema?: string; table?: string } = {},
): [JobsMigrationClass, JobsMigrationClass] {
  const schema = checkIdentifier('schema', location.schema ?? DEFAULTS.schema);
  const table = checkIdentifier('table', location.table ?? DEFAULTS.table);
  const jobs: JobsTable = describeJobsTable(schema, table);
  const isDefault = schema === DEFAULTS.schema && table === DEFAULTS.table;
  // TypeORM reads the timestamp from the last 13 digits of the name, which must be unique.
  const suffix = isDefault ? '' : `_${schema}_${table}`;

  class NestJobsCreateTable implements MigrationInterface {
    readonly name = `NestJobsCreateTable${suffix}0000000000001`;
    async up(queryRunner: QueryRunner): Promise<void> {
      await runAll(queryRunner, createJobsTableDdl(jobs));
    }
    async down(queryRunner: QueryRunner): Promise<void> {
      await runAll(queryRunner, dropJobsTableDdl(jobs));
    }
  }

  class NestJobsAddRetryPolicy implements MigrationInterface {
    readonly name = `NestJobsAddRetryPolicy${suffix}0000000000002`;
    async up(queryRunner: QueryRunner): Promise<void> {
      await runAll(queryRunner, addRetryPolicyDdl(jobs));
    }
    async down(queryRunner: QueryRunner): Promise<void> {
      await runAll(queryRunner, dropRetryPolicyDdl(jobs));
    }
  }

  return [NestJobsCreateTable, NestJobsAddRetryPolicy];
}

/** The migrations for the default table `public.nest_jobs`, in order. */
export const NEST_JOBS_MIGRATIONS = createJobsMigrations();

/** Creates `public.nest_jobs` with its indexes (timestamp 1). */
export const NestJobsCreateTable0000000000001 = NEST_JOBS_MIGRATIONS[0];

/** Adds the `retry_policy` column (timestamp 2). */
export const NestJobsAddRetryPolicy0000000000002 = NEST_JOBS_MIGRATIONS[1];
