import { JobsError } from './jobs.error.js';

/** Start-up found the jobs table (or a column of a later migration) missing. */
export class JobsTableMissingError extends JobsError {
  constructor(
    readonly table: string,
    readonly migration: string,
    detail: string,
  ) {
    super(
      `nest-jobs: ${detail}. Run the migration ${migration} (add NEST_JOBS_MIGRATIONS to your DataSource "migrations" ` +
        `and run them, or set JobsModule option "runMigrations: true")`,
    );
  }
}
