import type { DataSource } from 'typeorm';
import { JobsTableMissingError } from '../../errors/jobs-table-missing.error.js';
import type { ResolvedJobsOptions } from '../../jobs.options.js';
import type { JobsRepository } from '../jobs.repository.js';
import {
  jobsMigrationClasses,
  MIGRATION_DEFINITIONS,
  typeOrmMigrationName,
} from './jobs.migrations.js';
import {
  MIGRATION_LOCK_DDL,
  type JobsMigrationDefinition,
} from './migration-definition.js';
import { describeMissing, schemaVersion } from './schema-version.js';

/**
 * Runs at start-up, before anything can enqueue: applies the library's migrations when
 * `runMigrations` is set, then checks that the table has every migration this version
 * uses, so a missing migration is an error naming it instead of a "relation does not
 * exist" at the first enqueue. `migrations` is the library's list; tests pass a longer one.
 */
export async function prepareJobsTable(
  dataSource: DataSource,
  repository: JobsRepository,
  options: Pick<ResolvedJobsOptions, 'runMigrations'>,
  migrations: readonly JobsMigrationDefinition[] = MIGRATION_DEFINITIONS,
): Promise<void> {
  if (!dataSource.isInitialized) {
    throw new JobsTableMissingError(
      repository.jobsTable.qualified,
      '(none)',
      'the DataSource given to JobsModule is not initialized; call dataSource.initialize() before passing it',
    );
  }
  if (options.runMigrations)
    await migrateJobsTable(dataSource, repository, migrations);
  await checkJobsTable(repository, migrations);
}

/**
 * Applies the migrations after the table's schema version, in one transaction under the
 * migration lock. Only when one is missing: the idempotent DDL still takes table locks
 * (CREATE INDEX IF NOT EXISTS, ALTER TABLE ... IF NOT EXISTS), so re-running it while other
 * instances work would queue behind their claims, or deadlock with them.
 */
export async function migrateJobsTable(
  dataSource: DataSource,
  repository: JobsRepository,
  migrations: readonly JobsMigrationDefinition[],
): Promise<void> {
  if (schemaVersion(await repository.tableState()) >= migrations.length) return;
  const classes = jobsMigrationClasses(migrations, repository.jobsTable);
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.startTransaction();
    await queryRunner.query(MIGRATION_LOCK_DDL);
    // Read again under the lock: an instance starting at the same time may have migrated
    // while this one waited for it. On this transaction's connection: a second connection
    // from a pool of one would never come.
    const version = schemaVersion(await repository.tableState(queryRunner));
    for (const Migration of classes.slice(version))
      await new Migration().up(queryRunner);
    await queryRunner.commitTransaction();
  } catch (error) {
    if (queryRunner.isTransactionActive)
      await queryRunner.rollbackTransaction();
    throw error;
  } finally {
    await queryRunner.release();
  }
}

/**
 * Throws JobsTableMissingError naming the first of `migrations` the table lacks. A table
 * at a version newer than the list is accepted: in a rolling deploy the new instances
 * migrate first while the old ones still run, and a migration only adds what older
 * instances can ignore (nullable or defaulted columns, indexes, wider checks).
 */
export async function checkJobsTable(
  repository: JobsRepository,
  migrations: readonly JobsMigrationDefinition[],
): Promise<void> {
  const state = await repository.tableState();
  const version = schemaVersion(state);
  if (version >= migrations.length) return;
  throw new JobsTableMissingError(
    repository.jobsTable.qualified,
    typeOrmMigrationName(migrations[version]!, repository.jobsTable),
    describeMissing(repository.jobsTable, state, version),
  );
}
