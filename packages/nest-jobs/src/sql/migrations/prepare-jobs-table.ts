import type { DataSource } from 'typeorm';
import { JobsTableMissingError } from '../../errors/jobs-table-missing.error.js';
import type { ResolvedJobsOptions } from '../../jobs.options.js';
import { createJobsMigrations } from './jobs.migrations.js';
import type { JobsRepository } from '../jobs.repository.js';

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
  // Only when something is missing: the idempotent DDL still takes table locks
  // (CREATE INDEX IF NOT EXISTS, ALTER TABLE ... IF NOT EXISTS), so re-running it while other
  // instances work would queue behind their claims, or deadlock with them.
  if (options.runMigrations && !isComplete(await repository.tableState())) {
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
  const names = migrations.map((Migration) => new Migration().name);
  const table = repository.jobsTable.qualified;
  // In migration order: the first missing piece names the first migration not yet run.
  const missing = [
    !state.tableExists && `table ${table} does not exist`,
    !state.hasRetryPolicy && `table ${table} has no column retry_policy`,
    !state.hasFinishedIndex &&
      `table ${table} has no index ${repository.jobsTable.finishedIndex}`,
  ];
  const first = missing.findIndex(Boolean);
  if (first >= 0) {
    throw new JobsTableMissingError(
      table,
      names[first]!,
      missing[first] as string,
    );
  }
}

function isComplete(
  state: Awaited<ReturnType<JobsRepository['tableState']>>,
): boolean {
  return state.tableExists && state.hasRetryPolicy && state.hasFinishedIndex;
}
