import type { JobsTable } from '../jobs-table.js';
import {
  FIRST_RECORDED_VERSION,
  recordSchemaVersionDdl,
} from './schema-version.js';

/**
 * Serialises everything that migrates the jobs table, across instances: taken first by the
 * first migration and by every start-up that migrates (CREATE ... IF NOT EXISTS alone can
 * still race on the catalog). A transaction-level lock, released at commit.
 */
export const MIGRATION_LOCK_DDL = `SELECT pg_advisory_xact_lock(hashtext('nest-jobs:migrate'))`;

/** One migration of the jobs table (Oban's v01, v02...): its DDL in both directions. */
export interface JobsMigrationDefinition {
  /**
   * 1, 2, 3...: its place in the list, the timestamp of its TypeORM class and, from
   * FIRST_RECORDED_VERSION on, the version it records in the table's comment.
   */
  readonly version: number;
  /** Start of its TypeORM class name (`NestJobsAddRetryPolicy`): users have it recorded. */
  readonly name: string;
  /** Idempotent DDL that applies it (with the version record from version 4 on). */
  up(jobs: JobsTable): string[];
  /** DDL that reverts it (restoring the previous version's record from version 4 on). */
  down(jobs: JobsTable): string[];
}

/**
 * A migration of the jobs table. From FIRST_RECORDED_VERSION on, its `up` also records
 * its version in the table's comment and its `down` restores the previous version's
 * record, so a migration file holds only its own DDL and cannot forget the record.
 */
export function defineJobsMigration(
  definition: JobsMigrationDefinition,
): JobsMigrationDefinition {
  const { version, up, down } = definition;
  if (version < FIRST_RECORDED_VERSION) return definition;
  return {
    ...definition,
    up: (jobs) => [...up(jobs), recordSchemaVersionDdl(jobs, version, true)],
    down: (jobs) => [
      ...down(jobs),
      recordSchemaVersionDdl(jobs, version - 1, false),
    ],
  };
}
