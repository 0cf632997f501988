import type { DataSource } from 'typeorm';
import { JobsTableMissingError } from './errors/jobs-table-missing.error.js';
import type { ResolvedJobsOptions } from './jobs.options.js';
import { createJobsMigrations } from './sql/migrations/jobs.migrations.js';
import type { JobsRepository } from './sql/jobs.repository.js';

/**
 * Runs at start-up, before anything can enqueue: applies the library's migrations when
 * `runMigrations` is set, then checks that the table has every column this version uses,
 * so a missing migration is an error naming it instead of a "relation does not exist" at
 * the first enqueue.
 */
export async function prepareJobsTable(
  dataSource: DataSource,
  repository: JobsRepository,
  options: ResolvedJobsOptions,
): Promise<void> {
  if (!dataSource.isInitialized) {
    throw new JobsTableMissingError(
      repository.jobsTable.qualified,
      '(none)',
      'the DataSource given to JobsModule is not initialized; call dataSource.initialize() before passing it',
    );
  }
  const migrations = createJobsMigrations({
    schema: options.schema,
    table: options.table,
  });
  if (options.runMigrations) {
    const queryRunner = dataSource.createQueryRunner();
    try {
      await queryRunner.startTransaction();
      for (const Migration of migrations) await new Migration().up(queryRunner);
      await queryRunner.commitTransaction();
    } catch (error) {
      if (queryRunner.isTransactionActive)
        await queryRunner.rollbackTransaction();
      throw error;
    } finally {
      await queryRunner.release();
    }
  }
  const state = await repository.tableState();
  const [create, addRetryPolicy] = migrations.map(
    (Migration) => new Migration().name,
  );
  if (!state.tableExists) {
    throw new JobsTableMissingError(
      repository.jobsTable.qualified,
      create!,
      `table ${repository.jobsTable.qualified} does not exist`,
    );
  }
  if (!state.hasRetryPolicy) {
    throw new JobsTableMissingError(
      repository.jobsTable.qualified,
      addRetryPolicy!,
      `table ${repository.jobsTable.qualified} has no column retry_policy`,
    );
  }
}
