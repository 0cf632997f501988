import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  describeJobsTable,
  type JobsTable,
} from '../../packages/nest-jobs/src/sql/jobs-table.js';
import { JobsRepository } from '../../packages/nest-jobs/src/sql/jobs.repository.js';
import { jobsMigrationClasses } from '../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import type { JobsMigrationDefinition } from '../../packages/nest-jobs/src/sql/migrations/migration-definition.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** The suites of the table itself (migrations, statements): no Nest app, no worker. */
export interface TableSuite {
  /** The suite's database (usable from its beforeAll on). */
  readonly db: TestDatabase;
  /** A DataSource on it: what migrateJobsTable and prepareJobsTable take. */
  readonly dataSource: DataSource;
  /** The repository of the default table, `public.nest_jobs`. */
  readonly repository: JobsRepository;
  readonly jobs: JobsTable;
  /**
   * Runs `migrations`' TypeORM migration classes for the default table on a DataSource of
   * their own (as a user's `migrations` list would run them), passed to `action`.
   */
  throughTypeOrm<T>(
    migrations: readonly JobsMigrationDefinition[],
    action: (migrating: DataSource) => Promise<T>,
  ): Promise<T>;
}

/**
 * At the top of a describe: a database of the suite's own with a DataSource and the
 * repository of `public.nest_jobs`, closed and dropped after the last test; after each test
 * `afterEachSql` (e.g. dropping the tables the test migrated) runs on it.
 */
export function useTableSuite(
  label: string,
  { afterEachSql }: { afterEachSql?: string } = {},
): TableSuite {
  const jobs = describeJobsTable('public', 'nest_jobs');
  let state:
    | { db: TestDatabase; dataSource: DataSource; repository: JobsRepository }
    | undefined;
  const current = () => {
    if (!state)
      throw new Error(
        `The database of suite "${label}" exists from its beforeAll on`,
      );
    return state;
  };
  const db: TestDatabase = {
    get name() {
      return current().db.name;
    },
    get url() {
      return current().db.url;
    },
    query: (text, values) => current().db.query(text, values),
    drop: () =>
      Promise.reject(
        new Error('useTableSuite drops its database after the last test'),
      ),
  };

  beforeAll(async () => {
    const database = await createTestDatabase(label);
    const dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
    }).initialize();
    state = {
      db: database,
      dataSource,
      repository: new JobsRepository(dataSource, jobs),
    };
  });
  if (afterEachSql)
    afterEach(async () => {
      await db.query(afterEachSql);
    });
  afterAll(async () => {
    await state?.dataSource.destroy();
    await state?.db.drop();
  });

  return {
    db,
    jobs,
    get dataSource() {
      return current().dataSource;
    },
    get repository() {
      return current().repository;
    },
    async throughTypeOrm(migrations, action) {
      const migrating = await new DataSource({
        type: 'postgres',
        url: db.url,
        migrations: jobsMigrationClasses(migrations, jobs),
      }).initialize();
      try {
        return await action(migrating);
      } finally {
        await migrating.destroy();
      }
    },
  };
}
