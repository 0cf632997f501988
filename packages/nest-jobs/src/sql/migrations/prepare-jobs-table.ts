import type { DataSource } from 'typeorm';
import { InvalidJobsOptionError } from '../../errors/invalid-options.error.js';
import { JobsMigrationError } from '../../errors/jobs-migration.error.js';
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
import {
  checkMigrationAccess,
  checkTableAccess,
  requiredTablePrivileges,
  type TableAccess,
} from './table-access.js';

/**
 * Runs at start-up, before anything can enqueue: checks that the role may use the table's
 * schema, applies the library's migrations when `runMigrations` is set, then checks that
 * the table has every migration this version uses, so a missing migration is an error
 * naming it instead of a "relation does not exist" at the first enqueue, and that the role
 * holds the table privileges this process will use (`worker` and `retention` decide which;
 * all four when not given). `migrations` is the library's list; tests pass a longer one.
 * @throws InvalidJobsOptionError (option `dataSource`) for a DataSource not initialized.
 * @throws JobsPrivilegeError naming the privilege and the object the role lacks.
 * @throws JobsMigrationError when a migration fails (e.g. cancelled by `statement_timeout`).
 * @throws JobsTableMissingError naming the first migration the table lacks.
 */
export async function prepareJobsTable(
  dataSource: DataSource,
  repository: JobsRepository,
  options: Pick<ResolvedJobsOptions, 'runMigrations'> &
    Partial<Pick<ResolvedJobsOptions, 'worker' | 'retention'>>,
  migrations: readonly JobsMigrationDefinition[] = MIGRATION_DEFINITIONS,
): Promise<void> {
  if (!dataSource.isInitialized) {
    // An option problem, not a table problem: no query was sent, so nothing is known of
    // the table, and migration advice would mislead.
    throw new InvalidJobsOptionError(
      'dataSource',
      dataSource,
      'expected an initialized DataSource (the one given to JobsModule, or registered under its token); ' +
        'call dataSource.initialize() before passing it, or let @nestjs/typeorm initialize it',
    );
  }
  let access = await repository.accessState();
  // Before any read of the table: to_regclass itself fails without USAGE on the schema.
  checkMigrationAccess(repository.jobsTable, access, false);
  if (options.runMigrations) {
    const version = schemaVersion(await repository.tableState());
    if (version < migrations.length) {
      checkMigrationAccess(repository.jobsTable, access, true);
      const pending = typeOrmMigrationName(
        migrations[version]!,
        repository.jobsTable,
      );
      await migrateJobsTable(dataSource, repository, migrations).catch(
        (error: unknown) => {
          throw migrationError(error, access, pending);
        },
      );
      // The table may not have existed at the first read: its privileges are read again.
      access = await repository.accessState();
    }
  }
  await checkJobsTable(repository, migrations);
  checkTableAccess(
    repository.jobsTable,
    access,
    requiredTablePrivileges(options),
  );
}

/** A failed start-up migration as an error that says what happened and what to do. */
function migrationError(
  error: unknown,
  access: TableAccess,
  migration: string,
): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const message = (error as Error).message;
  const run =
    'or run NEST_JOBS_MIGRATIONS from a deploy step (TypeORM migrations) and drop runMigrations';
  let detail: string;
  if (code === '57014' || code === '55P03') {
    const limit = code === '57014' ? 'statement_timeout' : 'lock_timeout';
    detail =
      `cancelled by the ${limit} of the role "${access.role}" (SQLSTATE ${code}: ${message}; ` +
      `statement_timeout is ${access.statementTimeout}). The migration may wait for a table lock held by ` +
      `working instances, or for another instance's migration, before its DDL runs. Give the role a longer ` +
      `limit for the migration (ALTER ROLE "${access.role}" SET ${limit} = '5min', or options: '-c ${limit}=0' ` +
      `in the DataSource's connection options), ${run}. Nothing was applied`;
  } else if (code === '42501') {
    detail = `the role "${access.role}" lacks a privilege (SQLSTATE 42501: ${message}); ${run}. Nothing was applied`;
  } else {
    return error;
  }
  return new JobsMigrationError(migration, code, detail, { cause: error });
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
