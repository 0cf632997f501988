import pg from 'pg';
import { DataSource } from 'typeorm';
import { describeJobsTable } from '../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../packages/nest-jobs/src/sql/jobs.repository.js';
import { MIGRATION_DEFINITIONS } from '../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import { migrateJobsTable } from '../../packages/nest-jobs/src/sql/migrations/prepare-jobs-table.js';
import type { PgPool } from '../../packages/nest-jobs/src/sql/sql-runner.js';
import { StatementNames } from '../../packages/nest-jobs/src/sql/statement-names.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A migrated `nest_jobs` table and the repository a worker would use on it. */
export interface WorkerRepository {
  readonly db: TestDatabase;
  /** On a pool of its own, statements named where the library prepares them. */
  readonly repository: JobsRepository;
  /** The repository's pool (e.g. to read its connections' statistics). */
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * A database of its own named after `name`, the table migrated through TypeORM like an
 * application's, and a repository on `connections` pooled connections, as a worker's own
 * pool runs the library's statements.
 */
export async function openWorkerRepository(
  name: string,
  connections: number,
): Promise<WorkerRepository> {
  const db = await createTestDatabase(name);
  const dataSource = await new DataSource({
    type: 'postgres',
    url: db.url,
  }).initialize();
  const app = new JobsRepository(
    dataSource,
    describeJobsTable('public', 'nest_jobs'),
  );
  await migrateJobsTable(dataSource, app, MIGRATION_DEFINITIONS);
  const pool = new pg.Pool({ connectionString: db.url, max: connections });
  return {
    db,
    pool,
    repository: app.through(
      pool as unknown as PgPool,
      new StatementNames(true),
    ),
    async close() {
      await pool.end();
      await dataSource.destroy();
      await db.drop();
    },
  };
}
