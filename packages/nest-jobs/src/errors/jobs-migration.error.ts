import { JobsError } from './jobs.error.js';

/**
 * A migration run at start-up (`runMigrations: true`) failed; `migration` names it, `code`
 * is the SQLSTATE (e.g. `57014`: cancelled by the role's `statement_timeout`) and `cause`
 * the driver's error. Nothing of it was applied: the migrations run in one transaction.
 */
export class JobsMigrationError extends JobsError {
  constructor(
    readonly migration: string,
    readonly code: string | undefined,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`nest-jobs: the migration ${migration} failed: ${detail}`, options);
  }
}
